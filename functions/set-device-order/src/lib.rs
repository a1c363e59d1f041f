//! `setDeviceOrder`: sets a user's default MFA device and the order devices are offered in.
//!
//! One of, with `setDeviceOrder` absent or `true`:
//! - `defaultDeviceId`: this device becomes the default (first); the others keep their order;
//! - `deviceOrderList`: these devices first, in this order; the others follow in their order;
//! - `useDeviceOrderJsonAttributes: true` with `jsonAttributes`: PingOne's own `order` list,
//!   `[{"id": "…"}, …]`, as the native connector's JSON mode takes it.
//!
//! With `setDeviceOrder: false` the custom order is removed and PingOne's own order applies.
//!
//! The user's devices are read first, so an id that is not one of theirs is reported as a bad
//! input before anything changes, and PingOne is always sent the complete order [I] (whether
//! PingOne accepts a partial order is not documented). The output's `order` is the one PingOne
//! answers with; `devices` are the user's devices in that order.
//!
//! PingOne: `GET …/users/{userId}/devices`, then `POST …/users/{userId}/devices` with
//! `Content-Type: application/vnd.pingidentity.devices.reorder+json` (or `DELETE …/devices`
//! with `…devices.order.remove+json`).

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value;
use shared::pingone::{DevicesOutput, OrderOutput, PingOneCalls};
use shared::{Error, FieldProblem, Handler, Invocation};

/// The capability.
pub struct SetDeviceOrder;

/// One entry of `jsonAttributes`.
#[derive(Debug, Deserialize, shared::Input)]
pub struct OrderEntry {
    /// a device of the user
    #[field(id)]
    pub id: String,
}

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id
    #[field(id)]
    pub user_id: String,
    /// false removes the custom order
    pub set_device_order: Option<bool>,
    /// the device to make the default
    #[field(id)]
    pub default_device_id: Option<String>,
    /// device ids to put first, in order
    #[field(max_items = 100, items(id))]
    pub device_order_list: Option<Vec<String>>,
    /// take the order from jsonAttributes
    pub use_device_order_json_attributes: Option<bool>,
    /// PingOne's order list: [{"id": "…"}, …]
    #[field(max_items = 100)]
    pub json_attributes: Option<Vec<OrderEntry>>,
}

/// What the inputs ask for, once they agree.
enum Change<'a> {
    RemoveOrder,
    First(Vec<&'a str>),
}

impl Input {
    /// Exactly one way of giving the order; every disagreement listed.
    fn change(&self) -> Result<Change<'_>, Error> {
        let from_json = self.use_device_order_json_attributes == Some(true);
        let given: Vec<(&str, Option<Vec<&str>>)> = vec![
            (
                "defaultDeviceId",
                self.default_device_id.as_deref().map(|id| vec![id]),
            ),
            (
                "deviceOrderList",
                self.device_order_list
                    .as_ref()
                    .map(|ids| ids.iter().map(String::as_str).collect()),
            ),
            (
                "jsonAttributes",
                self.json_attributes
                    .as_ref()
                    .map(|entries| entries.iter().map(|entry| entry.id.as_str()).collect()),
            ),
        ];
        let mut problems = Vec::new();
        let mut problem = |field: &str, text: &str| {
            problems.push(FieldProblem::new(format!("properties.{field}"), text));
        };
        if self.json_attributes.is_some() && !from_json {
            problem(
                "jsonAttributes",
                "applies only when useDeviceOrderJsonAttributes is true",
            );
        }
        if from_json && self.json_attributes.is_none() {
            problem(
                "jsonAttributes",
                "is required when useDeviceOrderJsonAttributes is true",
            );
        }
        let mut present = given.into_iter().filter(|(_, ids)| ids.is_some());
        let change = if self.set_device_order == Some(false) {
            for (field, _) in present {
                problem(field, "must not be given when setDeviceOrder is false");
            }
            Some(Change::RemoveOrder)
        } else {
            match (present.next(), present.next()) {
                (Some((_, Some(ids))), None) => {
                    let mut seen = HashSet::new();
                    if ids.is_empty() {
                        problem("deviceOrderList", "must name at least one device");
                    }
                    if ids.iter().any(|id| !seen.insert(id.to_ascii_lowercase())) {
                        problem("deviceOrderList", "names a device more than once");
                    }
                    Some(Change::First(ids))
                }
                (Some(_), Some((second, _))) => {
                    problem(
                        second,
                        "give only one of defaultDeviceId, deviceOrderList, jsonAttributes",
                    );
                    None
                }
                _ => {
                    problem(
                        "defaultDeviceId",
                        "one of defaultDeviceId, deviceOrderList or jsonAttributes is required",
                    );
                    None
                }
            }
        };
        match change {
            Some(change) if problems.is_empty() => Ok(change),
            _ => Err(Error::Validation(problems)),
        }
    }
}

/// The complete order: `first`, then the user's other devices in their current order. Ids not
/// among `devices` are reported.
fn complete_order(first: &[&str], devices: &[Value]) -> Result<Vec<String>, Error> {
    let current: Vec<&str> = devices
        .iter()
        .filter_map(|device| device.get("id").and_then(Value::as_str))
        .collect();
    let unknown: Vec<FieldProblem> = first
        .iter()
        .filter(|id| !current.iter().any(|c| c.eq_ignore_ascii_case(id)))
        .map(|id| {
            FieldProblem::new(
                "properties.deviceOrderList",
                format!("{id} is not one of the user's devices"),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Validation(unknown));
    }
    let mut order: Vec<String> = first.iter().map(|id| id.to_string()).collect();
    order.extend(
        current
            .into_iter()
            .filter(|c| !first.iter().any(|id| id.eq_ignore_ascii_case(c)))
            .map(str::to_owned),
    );
    Ok(order)
}

/// The ids of PingOne's `order` answer.
fn order_ids(body: &Value) -> Result<Vec<String>, Error> {
    body.get("order")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|entry| entry.get("id").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .ok_or_else(|| Error::UpstreamInvalid("device order without `order`".into()))
}

async fn list(pingone: &PingOneCalls<'_>, user_id: &str) -> Result<DevicesOutput, Error> {
    DevicesOutput::try_from(pingone.list_devices(user_id).await?)
}

impl Handler for SetDeviceOrder {
    const ID: &'static str = "setDeviceOrder";
    const SUMMARY: &'static str = "Sets a user's default MFA device and device order.";
    type Input = Input;
    type Output = OrderOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<OrderOutput, Error> {
        let change = input.change()?;
        let pingone = invocation.pingone();
        match change {
            Change::RemoveOrder => {
                let removed = pingone.remove_device_order(&input.user_id).await?;
                let listed = list(&pingone, &input.user_id).await?;
                let order = listed
                    .devices
                    .iter()
                    .filter_map(|device| device.get("id").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect();
                Ok(OrderOutput {
                    raw_response: listed.raw_response,
                    status_code: removed.status,
                    headers: removed.headers,
                    order,
                    devices: listed.devices,
                })
            }
            Change::First(first) => {
                let listed = list(&pingone, &input.user_id).await?;
                let wanted = complete_order(&first, &listed.devices)?;
                let reordered = pingone.reorder_devices(&input.user_id, &wanted).await?;
                let order = order_ids(&reordered.body)?;
                let devices = order
                    .iter()
                    .filter_map(|id| {
                        listed
                            .devices
                            .iter()
                            .find(|device| device.get("id").and_then(Value::as_str) == Some(id))
                            .cloned()
                    })
                    .collect();
                Ok(OrderOutput {
                    status_code: reordered.status,
                    headers: reordered.headers,
                    raw_response: reordered.body,
                    order,
                    devices,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "a11ce000-0000-4000-8000-0000000000d1";
    const B: &str = "a11ce000-0000-4000-8000-0000000000d2";
    const C: &str = "a11ce000-0000-4000-8000-0000000000d3";

    fn input(properties: Value) -> Input {
        let mut base = json!({"userId": "a11ce000-0000-4000-8000-000000000001"});
        base.as_object_mut()
            .unwrap()
            .extend(properties.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn fields(properties: Value) -> Vec<String> {
        match input(properties).change() {
            Err(Error::Validation(problems)) => problems.into_iter().map(|p| p.field).collect(),
            Err(other) => panic!("unexpected {other}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn exactly_one_way_of_ordering() {
        assert!(matches!(
            input(json!({"defaultDeviceId": B})).change(),
            Ok(Change::First(ids)) if ids == [B]
        ));
        assert!(matches!(
            input(json!({"useDeviceOrderJsonAttributes": true, "jsonAttributes": [{"id": C}]}))
                .change(),
            Ok(Change::First(ids)) if ids == [C]
        ));
        assert!(matches!(
            input(json!({"setDeviceOrder": false})).change(),
            Ok(Change::RemoveOrder)
        ));
        assert_eq!(fields(json!({})), ["properties.defaultDeviceId"]);
        assert_eq!(
            fields(json!({"defaultDeviceId": B, "deviceOrderList": [A]})),
            ["properties.deviceOrderList"]
        );
        assert_eq!(
            fields(json!({"jsonAttributes": [{"id": A}]})),
            ["properties.jsonAttributes"]
        );
        assert_eq!(
            fields(json!({"deviceOrderList": [A, A]})),
            ["properties.deviceOrderList"]
        );
        assert_eq!(
            fields(json!({"setDeviceOrder": false, "defaultDeviceId": A})),
            ["properties.defaultDeviceId"]
        );
    }

    #[test]
    fn the_order_sent_is_complete_and_unknown_devices_are_refused() {
        let devices = [json!({"id": A}), json!({"id": B}), json!({"id": C})];
        assert_eq!(complete_order(&[C], &devices).unwrap(), [C, A, B]);
        assert_eq!(complete_order(&[B, A], &devices).unwrap(), [B, A, C]);
        let other = "b0b00000-0000-4000-8000-0000000000d1";
        let error = complete_order(&[other], &devices).unwrap_err();
        assert_eq!(error.code(), "VALIDATION_FAILED");
    }
}
