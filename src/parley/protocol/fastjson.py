"""msgspec's JSON codec, the fast path of the wire's bodies and of the ClientToken records (5-10x the json
module on these small documents). Whatever it refuses goes the json module's way at the caller, which decides
exactly as before and phrases the error. Importers take this module through `parley.lazy.LazyModule`, so
msgspec (~15 ms of imports) is loaded by the first body, not at start-up."""

from __future__ import annotations

import msgspec

decode = msgspec.json.Decoder().decode
encode = msgspec.json.Encoder().encode
encode_sorted = msgspec.json.Encoder(order="sorted").encode  # keys in order, for fingerprints
EncodeError = msgspec.EncodeError
