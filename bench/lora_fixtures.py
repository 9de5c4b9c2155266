#!/usr/bin/env python3
"""Synthetic full-size SD1.5 files for bench/lora-bench.sh (numpy only; nothing here is read by tests).

  lora_fixtures.py checkpoint KEYS OUT        fp16 SD1.5 checkpoint in the ldm layout (no EMA), random values
  lora_fixtures.py compare A B                largest difference between two LoRAs' deltas
  lora_fixtures.py check-bake BASE LORA OUT   a bake of a kohya LoRA against fp16(W + (alpha/r)*up@down) computed in
                                              float64, every key: fp16 steps apart, untouched keys byte-identical
  lora_fixtures.py lora KEYS OUT RANK SCOPE   kohya LoRA, fp16, alpha = RANK/2, over SCOPE:
                                              'all'  = every attention, feed-forward and resnet conv layer + CLIP
                                              'attn' = the UNet attention projections only (to_q/k/v/out)
                                              'one'  = a single attention projection (raw-copy baseline)

KEYS is the SD1.5 key list (engine-core/src/test/resources/dev/easel/core/adapter/sd15-ldm-keys.txt).
Module names use kohya's ldm spelling (lora_unet_input_blocks_1_1_...), which A1111, ComfyUI and Easel accept.
"""
import json
import re
import struct
import sys

import numpy as np

DT = {"float32": "F16", "int64": "I64"}


def read_keys(path):
    keys = []
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        f = line.split()
        if f[3] == "ema":
            continue
        keys.append((f[0], [int(x) for x in f[1].strip("[]").split(",") if x], f[2]))
    return keys


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, dtype, shape, numpy array); layout as the reference writer (dtype rank, name)."""
    rank = {"F32": 3, "F16": 2, "I64": 4}
    tensors = sorted(tensors, key=lambda t: (-rank[t[1]], t[0].encode()))
    header = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name, dtype, shape, arr in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(h)))
        out.write(h)
        for _, _, _, arr in tensors:
            out.write(arr.tobytes())


POOL = np.random.default_rng(0).standard_normal(1 << 24).astype(np.float16) * np.float16(0.05)


def values(n, seed):
    start = (seed * 7919) % (len(POOL) - 1)
    reps = (start + n) // len(POOL) + 1
    return np.tile(POOL, reps)[start:start + n] if reps > 1 else POOL[start:start + n]


def checkpoint(keys, out):
    tensors = []
    for i, (name, shape, dtype) in enumerate(keys):
        n = int(np.prod(shape)) if shape else 1
        if dtype == "int64":
            arr = np.arange(n, dtype=np.int64)
        else:
            arr = values(n, i)
        tensors.append((name, DT[dtype], shape, arr))
    write_safetensors(out, tensors, {"format": "pt"})


ATTN = re.compile(r"model\.diffusion_model\.(.*\.transformer_blocks\.\d+\.attn[12]\.(to_q|to_k|to_v|to_out\.0))\.weight$")
ALL_UNET = re.compile(r"model\.diffusion_model\.(.*(\.transformer_blocks\.\d+\.(attn[12]\.(to_q|to_k|to_v|to_out\.0)|ff\.net\.(0\.proj|2))"
                      r"|\.1\.proj_in|\.1\.proj_out|\.in_layers\.2|\.out_layers\.3|\.skip_connection))\.weight$")
CLIP = re.compile(r"cond_stage_model\.transformer\.(text_model\.encoder\.layers\.\d+\.(self_attn\.(q|k|v|out)_proj|mlp\.fc[12]))\.weight$")


def lora(keys, out, rank, scope):
    tensors = []
    rng = np.random.default_rng(1)
    for name, shape, _ in keys:
        if scope == "one" and tensors:
            break
        m = (ATTN if scope in ("attn", "one") else ALL_UNET).match(name)
        prefix = None
        if m:
            prefix = "lora_unet_" + m.group(1).replace(".", "_")
        elif scope == "all":
            c = CLIP.match(name)
            if c:
                prefix = "lora_te_" + c.group(1).replace(".", "_")
        if prefix is None:
            continue
        o, i = shape[0], shape[1]
        kernel = shape[2:] if len(shape) == 4 else []
        down_shape = [rank, i] + kernel
        up_shape = [o, rank] + ([1, 1] if kernel else [])
        down = (rng.standard_normal(int(np.prod(down_shape))) / np.sqrt(i)).astype(np.float16)
        up = (rng.standard_normal(int(np.prod(up_shape))) * 0.01).astype(np.float16)
        tensors.append((prefix + ".lora_down.weight", "F16", down_shape, down))
        tensors.append((prefix + ".lora_up.weight", "F16", up_shape, up))
        tensors.append((prefix + ".alpha", "F16", [], np.array(rank / 2, dtype=np.float16)))
    write_safetensors(out, tensors, {"ss_network_module": "networks.lora", "ss_network_dim": str(rank),
                                     "ss_network_alpha": str(rank / 2), "ss_base_model_version": "sd_v1"})
    print(f"{out}: {len(tensors) // 3} modules of rank {rank}")


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    types = {"F16": np.float16, "F32": np.float32, "BF16": None, "I64": np.int64}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = np.frombuffer(data[a:b], dtype=types[v["dtype"]]).reshape(v["shape"]).astype(np.float64)
    return out


def compare(a_path, b_path):
    """Largest difference between the deltas (alpha/r)*up@down of two LoRAs, relative to the delta's largest value."""
    a, b = read_safetensors(a_path), read_safetensors(b_path)
    worst = 0.0
    for k in a:
        if not k.endswith(".lora_down.weight"):
            continue
        m = k[: -len(".lora_down.weight")]
        deltas = []
        for t in (a, b):
            down, up = t[m + ".lora_down.weight"], t[m + ".lora_up.weight"]
            r = down.shape[0]
            d = up.reshape(up.shape[0], -1) @ down.reshape(r, -1)
            deltas.append(d * (t[m + ".alpha"].item() / r if m + ".alpha" in t else 1.0))
        worst = max(worst, np.abs(deltas[0] - deltas[1]).max() / max(np.abs(deltas[0]).max(), 1e-12))
    print(f"max relative delta difference: {worst:.2e}")


def mapped(path):
    """name -> (dtype, shape, numpy view of the bytes), memory-mapped."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    out = {}
    for k, v in header.items():
        if k != "__metadata__":
            a, b = v["data_offsets"]
            out[k] = (v["dtype"], v["shape"], raw[a:b])
    return out


def check_bake(base_path, lora_path, out_path):
    base, lora, out = mapped(base_path), mapped(lora_path), mapped(out_path)
    modules = {}
    for name, (dtype, shape, raw) in base.items():
        m = ALL_UNET.match(name)
        prefix = "lora_unet_" + m.group(1).replace(".", "_") if m else None
        c = CLIP.match(name)
        if c:
            prefix = "lora_te_" + c.group(1).replace(".", "_")
        if prefix and prefix + ".lora_down.weight" in lora:
            modules[name] = prefix
    steps = np.zeros(4, dtype=np.int64)
    elements = 0
    for name, (dtype, shape, raw) in base.items():
        if name not in modules:
            assert bytes(raw) == bytes(out[name][2]), name + " changed but no module targets it"
            continue
        p = modules[name]
        f16 = lambda key: np.frombuffer(lora[key][2], dtype=np.float16).astype(np.float64)
        down, up = f16(p + ".lora_down.weight"), f16(p + ".lora_up.weight")
        r = lora[p + ".lora_down.weight"][1][0]
        scale = f16(p + ".alpha")[0] / r
        w = np.frombuffer(raw, dtype=np.float16).astype(np.float64).reshape(shape[0], -1)
        expected = (w + scale * (up.reshape(shape[0], r) @ down.reshape(r, -1))).astype(np.float32).astype(np.float16)
        got = np.frombuffer(out[name][2], dtype=np.float16).reshape(expected.shape)
        # distance in fp16 steps: the bit patterns as sign-magnitude integers
        def ordinal(h):
            b = h.view(np.int16).astype(np.int32)
            return np.where(b < 0, -(b & 0x7FFF), b)
        d = np.abs(ordinal(expected) - ordinal(got))
        steps += np.bincount(np.minimum(d, 3).ravel(), minlength=4)
        elements += d.size
    print(f"{len(modules)} baked keys, {elements} elements: exact {steps[0]}, 1 fp16 step {steps[1]}, "
          f"2 steps {steps[2]}, more {steps[3]}; untouched keys byte-identical")


if __name__ == "__main__":
    cmd = sys.argv[1]
    keys = read_keys(sys.argv[2]) if cmd in ("checkpoint", "lora") else None
    if cmd == "checkpoint":
        checkpoint(keys, sys.argv[3])
    elif cmd == "compare":
        compare(sys.argv[2], sys.argv[3])
    elif cmd == "check-bake":
        check_bake(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "lora":
        lora(keys, sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)
