"""Prints a SAM template as JSON: as written, and as CloudFormation after SAM's own transform.

Used by tests/tests/e2e/template.rs, which checks the deployment rules on both. Reads the template
(YAML with CloudFormation's short tags, or JSON) from the file named by argv[1] and prints
{"written", "transformed"}; with "--many", reads a JSON array of templates from stdin and prints
an array of those (the rules' own tests transform many variants in one start of Python). Runs
offline: SAM's translator with placeholder parameter values, no AWS call.
"""

import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

# Placeholders for the values CloudFormation would know; nothing here reaches AWS.
PSEUDO = {
    "AWS::Region": "eu-west-1",
    "AWS::Partition": "aws",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "pingid",
    "AWS::URLSuffix": "amazonaws.com",
}


class NoManagedPolicies:
    """SAM asks for the account's managed policies only to resolve names; we use none."""

    def load(self):
        return {}


def main():
    os.environ.setdefault("AWS_DEFAULT_REGION", PSEUDO["AWS::Region"])
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    if sys.argv[1] == "--many":
        sources = [json.dumps(template) for template in json.load(sys.stdin)]
        json.dump([both(source) for source in sources], sys.stdout, default=str)
    else:
        with open(sys.argv[1]) as file:
            json.dump(both(file.read()), sys.stdout, default=str)


def both(source):
    written = yaml_parse(source)
    to_transform = yaml_parse(source)
    # sam deploy uploads each function's local CodeUri (target/lambda/<function>/, what make
    # build leaves) and writes its S3 URI in its place; the translator wants that URI.
    for resource in to_transform.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and "CodeUri" in properties:
            function = str(properties["CodeUri"]).rstrip("/").rsplit("/", 1)[-1]
            properties["CodeUri"] = f"s3://bucket/{function}.zip"
    transformed = transform(to_transform, dict(PSEUDO), NoManagedPolicies())
    return {"written": written, "transformed": transformed}


if __name__ == "__main__":
    main()
