//! `pingid-contract` (`make contract`): writes `openapi.yaml` and `docs/davinci/*.json` at the
//! repository root from the capability schemas.

use std::path::Path;

fn main() -> anyhow::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    pingid_local::contract::write(&repo)?;
    Ok(())
}
