//! Lambda's SQS event source mapping (with `FunctionResponseTypes: [ReportBatchItemFailures]`),
//! played by a test over moto: receive a batch, hand it to the function as Lambda's SQS event,
//! delete what succeeded, and let SQS redeliver (and in the end dead-letter) the rest.

use std::collections::BTreeSet;

use anyhow::bail;
use serde_json::{Value, json};

use crate::function::{FunctionProcess, Invocation};
use crate::moto::{Moto, Queue, ReceivedMessage};

/// Polls after which [`SqsEventSource::drain`] gives up: far more than a redrive needs, so
/// reaching it means messages are never deleted nor dead-lettered.
const MAX_POLLS: usize = 20;

/// A queue feeding a function, as Lambda's event source mapping does.
pub struct SqsEventSource<'a> {
    moto: &'a Moto,
    queue: &'a Queue,
    /// Seconds a received message stays hidden: 0 makes a failed record visible again at once,
    /// so retries need no sleep.
    visibility_timeout: i32,
}

/// One batch handed to the function.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The messages of the batch, in order.
    pub message_ids: Vec<String>,
    /// The ones left in the queue for another try: the answer's `batchItemFailures`, or the
    /// whole batch when the invocation failed or the answer could not be used.
    pub failed: Vec<String>,
}

impl<'a> SqsEventSource<'a> {
    /// Feeds `queue`'s messages to functions, hiding each received batch for 0 seconds.
    pub fn new(moto: &'a Moto, queue: &'a Queue) -> Self {
        Self {
            moto,
            queue,
            visibility_timeout: 0,
        }
    }

    /// Receives one batch and invokes `function` with it; `None` when nothing was visible.
    pub async fn poll(&self, function: &FunctionProcess) -> anyhow::Result<Option<Batch>> {
        let messages = self
            .moto
            .receive_messages(self.queue, self.visibility_timeout)
            .await?;
        if messages.is_empty() {
            return Ok(None);
        }
        let event = sqs_event(self.queue, self.moto.region(), &messages);
        let answer = function.invoke(event).await?;
        let message_ids: Vec<String> = messages.iter().map(|m| m.message_id.clone()).collect();
        let failed = failed_records(&answer, &message_ids);
        for message in messages.iter().filter(|m| !failed.contains(&m.message_id)) {
            self.moto
                .delete_message(self.queue, &message.receipt_handle)
                .await?;
        }
        Ok(Some(Batch {
            message_ids,
            failed: failed.into_iter().collect(),
        }))
    }

    /// Polls until the queue has nothing visible left; returns every batch.
    pub async fn drain(&self, function: &FunctionProcess) -> anyhow::Result<Vec<Batch>> {
        let mut batches = Vec::new();
        for _ in 0..MAX_POLLS {
            match self.poll(function).await? {
                Some(batch) => batches.push(batch),
                None => return Ok(batches),
            }
        }
        bail!(
            "{} still had messages after {MAX_POLLS} polls: {batches:?}",
            self.queue.url
        )
    }
}

/// Lambda's SQS event for `messages` received from `queue`, field for field.
pub fn sqs_event(queue: &Queue, region: &str, messages: &[ReceivedMessage]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|message| {
            json!({
                "messageId": message.message_id,
                "receiptHandle": message.receipt_handle,
                "body": message.body,
                "attributes": message.attributes,
                // The test sends no message attributes.
                "messageAttributes": {},
                "md5OfBody": message.md5_of_body,
                "eventSource": "aws:sqs",
                "eventSourceARN": queue.arn,
                "awsRegion": region,
            })
        })
        .collect();
    json!({ "Records": records })
}

/// The messages Lambda leaves in the queue after `answer`: those `batchItemFailures` names; all
/// of them when the invocation failed, or when the answer names a record that is not in the
/// batch or names one without an id (Lambda then treats the whole batch as failed).
fn failed_records(answer: &Invocation, message_ids: &[String]) -> BTreeSet<String> {
    let everything = || message_ids.iter().cloned().collect();
    let Invocation::Response(answer) = answer else {
        return everything();
    };
    let Some(failures) = answer.get("batchItemFailures") else {
        // No partial answer: the batch succeeded.
        return BTreeSet::new();
    };
    let named: Option<BTreeSet<String>> = failures.as_array().and_then(|failures| {
        failures
            .iter()
            .map(|failure| {
                let id = failure.get("itemIdentifier").and_then(Value::as_str)?;
                message_ids.iter().any(|m| m == id).then(|| id.to_owned())
            })
            .collect()
    });
    named.unwrap_or_else(everything)
}
