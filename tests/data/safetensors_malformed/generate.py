"""Writes the corpus of malformed (and borderline valid) safetensors files in this
folder, and records what Python's safetensors says of each in verdicts.txt, so that
tests/layers/test_safetensors_corpus.cpp can hold our reader to the same verdicts
without Python:

    python3 -m venv /tmp/st && /tmp/st/bin/pip install safetensors numpy
    /tmp/st/bin/python tests/data/safetensors_malformed/generate.py

The verdict is the reference implementation's own (safetensors.deserialize on the
bytes, safe_open(...).metadata() for the metadata), not a framework's: a file it
accepts is valid safetensors. verdicts.txt, one block per file:

    file NAME reject MESSAGE            Python refused it, with this message
    file NAME accept                    Python read it; then, one line each:
      meta HEXKEY HEXVALUE              a metadata entry (UTF-8 bytes in hex; "-" for empty)
      tensor HEXNAME DTYPE NDIM D0 .. COUNT V0 ..   a tensor, values as float32 text

Names and strings are hex so that any byte survives; values are what each element
is after conversion to float32 (what our reader hands out).
"""
import os
import struct
import sys

import numpy as np
import safetensors
from safetensors import safe_open

HERE = os.path.dirname(os.path.abspath(__file__))

F32_ONE = struct.pack("<f", 1.0)
F32_1_2 = struct.pack("<2f", 1.0, 2.0)


def st(header, data=b""):
    """A file from a header given as bytes (or str, encoded UTF-8) and its data."""
    if isinstance(header, str):
        header = header.encode()
    return struct.pack("<Q", len(header)) + header + data


def one(fields='"dtype":"F32","shape":[1],"data_offsets":[0,4]', name="a", extra=""):
    """A header with one tensor `name` whose info object is {fields}."""
    return '{"%s":{%s}%s}' % (name, fields, extra)


def nested(depth):
    return "[" * depth + "]" * depth


CASES = [
    # --- the 8-byte length and the file's size
    ("empty_file", b""),
    ("short_length", b"\x05\0\0\0\0"),
    ("length_past_end", struct.pack("<Q", 1000) + one().encode() + F32_ONE),
    ("length_near_2_64", struct.pack("<Q", 2**64 - 1) + one().encode() + F32_ONE),
    ("length_over_limit", struct.pack("<Q", 100_000_001) + one().encode() + F32_ONE),
    ("length_zero", struct.pack("<Q", 0) + F32_ONE),
    ("data_truncated", st(one(), F32_ONE[:3])),
    ("data_extra_byte", st(one(), F32_ONE + b"\0")),
    ("header_only", st(one())),
    # --- JSON syntax
    ("garbage", st("{this is not json}")),
    ("binary_garbage", st(b"\x01\x02\xff\xfe garbage bytes")),
    ("trailing_comma", st(one(extra=","), F32_ONE)),
    ("comment", st(one(extra="/*x*/"), F32_ONE)),
    ("byte_order_mark", st(b"\xef\xbb\xbf" + one().encode(), F32_ONE)),
    ("unterminated_string", st('{"a":{"dtype":"F32')),
    ("unclosed_object", st(one()[:-1], F32_ONE)),
    ("trailing_nul", st(one().encode() + b"\0", F32_ONE)),
    ("trailing_garbage", st(one() + " x", F32_ONE)),
    ("single_quotes", st(one().replace('"a"', "'a'"), F32_ONE)),
    ("leading_zero", st(one('"dtype":"F32","shape":[01],"data_offsets":[0,4]'), F32_ONE)),
    ("nan_literal", st(one('"dtype":"F32","shape":[NaN],"data_offsets":[0,4]'), F32_ONE)),
    ("true_literal", st(one('"dtype":"F32","shape":[true],"data_offsets":[0,4]'), F32_ONE)),
    ("raw_control_char", st(b'{"__metadata__":{"k":"a\x01b"},' + one().encode()[1:], F32_ONE)),
    ("raw_newline_in_string", st(b'{"__metadata__":{"k":"a\nb"},' + one().encode()[1:], F32_ONE)),
    ("bad_escape", st('{"__metadata__":{"k":"\\x"},' + one()[1:], F32_ONE)),
    ("short_unicode_escape", st('{"__metadata__":{"k":"\\u12"},' + one()[1:], F32_ONE)),
    ("whitespace_everywhere", st(' \t\n{ "a" : { "dtype" : "F32" , "shape" : [ 1 ] , "data_offsets" : [ 0 , 4 ] } }\r\n  ', F32_ONE)),
    # --- UTF-8 (the header must be valid UTF-8, strings and padding alike)
    ("utf8_ff_in_key", st(b'{"a\xff":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', F32_ONE)),
    ("utf8_overlong_nul", st(b'{"__metadata__":{"k":"\xc0\x80"},' + one().encode()[1:], F32_ONE)),
    ("utf8_overlong_slash", st(b'{"__metadata__":{"k":"\xe0\x80\xaf"},' + one().encode()[1:], F32_ONE)),
    ("utf8_encoded_surrogate", st(b'{"\xed\xa0\x80":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', F32_ONE)),
    ("utf8_above_10ffff", st(b'{"\xf4\x90\x80\x80":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', F32_ONE)),
    ("utf8_f5_lead", st(b'{"\xf5\x80\x80\x80":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', F32_ONE)),
    ("utf8_truncated_sequence", st(b'{"__metadata__":{"k":"\xe2\x82"},' + one().encode()[1:], F32_ONE)),
    ("utf8_lone_continuation", st(b'{"__metadata__":{"k":"\x80"},' + one().encode()[1:], F32_ONE)),
    ("utf8_in_padding", st(one().encode() + b" \xff", F32_ONE)),
    ("utf8_latin1_in_value", st(b'{"__metadata__":{"k":"caf\xe9"},' + one().encode()[1:], F32_ONE)),
    ("escape_lone_high_surrogate", st('{"__metadata__":{"k":"\\ud800"},' + one()[1:], F32_ONE)),
    ("escape_lone_low_surrogate", st('{"\\udc00":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', F32_ONE)),
    ("escape_reversed_surrogates", st('{"__metadata__":{"k":"\\ude00\\ud83d"},' + one()[1:], F32_ONE)),
    ("utf8_valid_multibyte", st('{"__metadata__":{"caf\u00e9":"\u2603 \U0001f600"},"\u00e9\U0001f600":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', F32_ONE)),
    ("escape_valid_pair_and_nul", st('{"__metadata__":{"k":"\\ud83d\\ude00\\u00e9"},"a\\u0000b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', F32_ONE)),
    # --- structure
    ("root_array", st("[]")),
    ("root_string", st('"a"')),
    ("empty_header", st("{}")),
    ("empty_header_padded", st("{}      ")),
    ("tensor_null", st('{"a":null}', F32_ONE)),
    ("tensor_array", st('{"a":[]}', F32_ONE)),
    ("missing_dtype", st(one('"shape":[1],"data_offsets":[0,4]'), F32_ONE)),
    ("missing_shape", st(one('"dtype":"F32","data_offsets":[0,4]'), F32_ONE)),
    ("missing_offsets", st(one('"dtype":"F32","shape":[1]'), F32_ONE)),
    ("dtype_lowercase", st(one('"dtype":"f32","shape":[1],"data_offsets":[0,4]'), F32_ONE)),
    ("dtype_number", st(one('"dtype":32,"shape":[1],"data_offsets":[0,4]'), F32_ONE)),
    ("dtype_null", st(one('"dtype":null,"shape":[1],"data_offsets":[0,4]'), F32_ONE)),
    ("shape_not_array", st(one('"dtype":"F32","shape":1,"data_offsets":[0,4]'), F32_ONE)),
    ("shape_float", st(one('"dtype":"F32","shape":[1.0],"data_offsets":[0,4]'), F32_ONE)),
    ("shape_exponent", st(one('"dtype":"F32","shape":[1e0],"data_offsets":[0,4]'), F32_ONE)),
    ("shape_negative", st(one('"dtype":"F32","shape":[-1],"data_offsets":[0,4]'), F32_ONE)),
    ("shape_minus_zero", st(one('"dtype":"F32","shape":[-0],"data_offsets":[0,0]'))),
    ("shape_string", st(one('"dtype":"F32","shape":["1"],"data_offsets":[0,4]'), F32_ONE)),
    ("shape_2_64", st(one('"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,4]'), F32_ONE)),
    ("offsets_three", st(one('"dtype":"F32","shape":[1],"data_offsets":[0,4,4]'), F32_ONE)),
    ("offsets_one", st(one('"dtype":"F32","shape":[1],"data_offsets":[4]'), F32_ONE)),
    ("offsets_negative", st(one('"dtype":"F32","shape":[1],"data_offsets":[-4,0]'), F32_ONE)),
    ("offsets_float", st(one('"dtype":"F32","shape":[1],"data_offsets":[0,4.0]'), F32_ONE)),
    ("offsets_object", st(one('"dtype":"F32","shape":[1],"data_offsets":{"begin":0,"end":4}'), F32_ONE)),
    ("duplicate_field", st(one('"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]'), F32_ONE)),
    ("duplicate_dtype_field", st(one('"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]'), F32_ONE)),
    ("duplicate_metadata_object", st('{"__metadata__":{"k":"1"},"__metadata__":{"k":"2"},' + one()[1:], F32_ONE)),
    ("duplicate_tensor_last_wins", st('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', F32_1_2)),
    ("duplicate_metadata_key_last_wins", st('{"__metadata__":{"k":"1","k":"2"},' + one()[1:], F32_ONE)),
    ("metadata_null", st('{"__metadata__":null,' + one()[1:], F32_ONE)),
    ("metadata_array", st('{"__metadata__":[],' + one()[1:], F32_ONE)),
    ("metadata_number_value", st('{"__metadata__":{"step":10},' + one()[1:], F32_ONE)),
    ("metadata_null_value", st('{"__metadata__":{"k":null},' + one()[1:], F32_ONE)),
    ("metadata_object_value", st('{"__metadata__":{"k":{}},' + one()[1:], F32_ONE)),
    ("metadata_after_tensors", st(one(extra=',"__metadata__":{"k":"v"}'), F32_ONE)),
    ("unknown_field_ignored", st(one('"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":{"y":[null,true,-1.5e3]}'), F32_ONE)),
    ("unknown_field_duplicated", st(one('"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1,"x":2'), F32_ONE)),
    ("nesting_127_levels", st(one('"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":' + nested(125)), F32_ONE)),
    ("nesting_128_levels", st(one('"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":' + nested(126)), F32_ONE)),
    ("nesting_10000_levels", st(one('"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":' + nested(10000)), F32_ONE)),
    ("empty_tensor_name", st(one(name=""), F32_ONE)),
    ("scalar_shape", st(one('"dtype":"F32","shape":[],"data_offsets":[0,4]'), F32_ONE)),
    # --- offsets against shapes and the data section
    ("gap_at_start", st(one('"dtype":"F32","shape":[1],"data_offsets":[4,8]'), F32_1_2)),
    ("gap_between", st('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', F32_1_2 + F32_ONE)),
    ("overlap", st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', F32_1_2)),
    ("same_offsets_twice", st('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', F32_ONE)),
    ("begin_after_end", st(one('"dtype":"F32","shape":[0],"data_offsets":[4,0]'), F32_ONE)),
    ("shape_against_offsets", st(one('"dtype":"F32","shape":[2],"data_offsets":[0,4]'), F32_ONE)),
    ("end_past_data", st(one('"dtype":"F32","shape":[2],"data_offsets":[0,8]'), F32_ONE)),
    ("data_in_other_order", st('{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', F32_1_2)),
    ("zero_size_at_same_offset", st('{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"c":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', F32_ONE)),
    ("zero_size_inside_another", st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}', F32_1_2)),
    ("zero_size_at_end", st('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}', F32_ONE)),
    ("element_count_overflow", st(one('"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]'))),
    ("byte_count_overflow", st(one('"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]'))),
    ("huge_shape_small_data", st(one('"dtype":"F32","shape":[1000000000000],"data_offsets":[0,4000000000000]'), F32_ONE)),
    ("offsets_past_2_64", st(one('"dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,18446744073709551616]'), F32_ONE)),
    # --- the other float dtypes, valid
    ("dtypes_f64_f16_bf16", st('{"d":{"dtype":"F64","shape":[3],"data_offsets":[0,24]},"h":{"dtype":"F16","shape":[6],"data_offsets":[24,36]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[36,40]}}',
                               struct.pack("<3d", 0.1, -3.0, 1e300) + struct.pack("<6H", 0x3C00, 0xC000, 0x0001, 0x7C00, 0xFC00, 0x7E00) + struct.pack("<2H", 0x3F80, 0xC000))),
    ("f16_odd_byte_count", st(one('"dtype":"F16","shape":[1],"data_offsets":[0,3]'), b"\0\0\0")),
    # --- valid safetensors this framework does not hold (known differences, see the C++ test)
    ("seven_dims", st(one('"dtype":"F32","shape":[1,1,1,1,1,1,1],"data_offsets":[0,4]'), F32_ONE)),
    ("dtype_i64", st(one('"dtype":"I64","shape":[1],"data_offsets":[0,8]'), struct.pack("<q", 7))),
    ("zero_elements_huge_inner_dims", st(one('"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]'))),
]

DECODE = {"F32": ("<f", 4), "F64": ("<d", 8), "F16": ("<e", 2)}


def as_float32_text(dtype, raw):
    """Each element of raw as a float32 (what our reader makes of it), as text."""
    if dtype == "BF16":
        words = struct.unpack("<%dH" % (len(raw) // 2), raw)
        values = np.array([w << 16 for w in words], dtype=np.uint32).view(np.float32)
    else:
        fmt, size = DECODE[dtype]
        values = np.array([struct.unpack(fmt, raw[i:i + size])[0] for i in range(0, len(raw), size)], dtype=np.float64)
        with np.errstate(over="ignore"):
            values = values.astype(np.float32)
    return [repr(float(v)) for v in values]


def hexed(s):
    return s.encode("utf-8", "surrogatepass").hex() or "-"


def verdict(path, data):
    try:
        tensors = safetensors.deserialize(data)
        with safe_open(path, "numpy") as f:
            metadata = f.metadata() or {}
    except Exception as e:  # the reference's refusal, whatever its type
        return ["reject " + " ".join(str(e).split())]
    lines = ["accept"]
    for k in sorted(metadata):
        lines.append("  meta %s %s" % (hexed(k), hexed(metadata[k])))
    for name, t in sorted(tensors):
        values = as_float32_text(t["dtype"], bytes(t["data"])) if t["dtype"] in ("F32", "F64", "F16", "BF16") else []
        fields = [hexed(name), t["dtype"], str(len(t["shape"]))] + [str(d) for d in t["shape"]]
        lines.append("  tensor " + " ".join(fields + [str(len(values))] + values))
    return lines


def main():
    names = [name for name, _ in CASES]
    assert len(set(names)) == len(names), "case names must be unique"
    for old in os.listdir(HERE):
        if old.endswith(".safetensors"):
            os.remove(os.path.join(HERE, old))
    out = ["# Written by generate.py with Python's safetensors %s; do not edit by hand." % safetensors.__version__]
    for name, data in CASES:
        path = os.path.join(HERE, name + ".safetensors")
        with open(path, "wb") as f:
            f.write(data)
        v = verdict(path, data)
        out.append("file %s.safetensors %s" % (name, v[0]))
        out.extend(v[1:])
    with open(os.path.join(HERE, "verdicts.txt"), "w") as f:
        f.write("\n".join(out) + "\n")
    print("%d files, %d accepted" % (len(CASES), sum(1 for line in out if line.endswith(" accept"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
