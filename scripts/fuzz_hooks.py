"""Schemathesis hooks for scripts/fuzz-contract (loaded through SCHEMATHESIS_HOOKS).

Every POST takes an optional `Idempotency-Key`, and the document tells clients to send a new
random value with each new request. The fuzzer draws keys from the schema and its example, so
it sends the same few keys again and again: Redes rightly answers 422 to a key reused with
another body, and replays the first answer to a key reused with the same body, which the
stateful phase then takes for a resource that vanished (a replayed 201 of a school it has
since deleted). So, like a real client, each request gets a fresh key here; a key the schema
refuses is left as drawn, to keep probing the header's validation. Reusing keys is tested in
tests/api/idempotency.rs, on both databases.
"""
import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) \
                and VALID_KEY.match(value):
            headers[name] = str(uuid.uuid4())
