//! `pingid-contract` (`make contract`): writes `openapi.yaml`, `docs/davinci/*.json` and the
//! route table of `docs/api.md` (between its markers) from the capability schemas.

use std::path::Path;

fn main() -> anyhow::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    pingid_local::contract::write(&repo)?;
    Ok(())
}
