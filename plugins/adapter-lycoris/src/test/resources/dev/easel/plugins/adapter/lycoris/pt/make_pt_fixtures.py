#!/usr/bin/python3
"""Generates the .pt LoRA fixtures of LoraPtFileTest with real torch (Debian python3-torch; never needed at test time).

kohya's sd-scripts (save_model_as=pt/ckpt) and A1111-era LoRA tools save a LoRA's state dict with torch.save, as
this script does: a dict of tensors named like kohya's safetensors keys, fp16 factors, alpha as a 0-dim fp16 tensor (kohya converts every tensor to the save dtype),
no metadata. Written:
  kohya-tiny.pt              torch.save, zip format (torch >= 1.6 default)
  kohya-tiny-legacy.pt       torch.save(_use_new_zipfile_serialization=False), the pre-1.6 pickle format
  kohya-tiny.safetensors     the same tensors, byte for byte, as safetensors (written by hand: no extra library)
The modules fit TinyModels.writeSd1 (8 channels): attention Linear, 3x3 resnet conv with 1x1 up (LoCon),
text-encoder MLP, 1x1 proj conv from 2-d factors; one module's factors are a non-contiguous view in torch (a
transposed storage), which torch.save writes with its strides.

Run:  /usr/bin/python3 make_pt_fixtures.py   (in this folder)
"""
import json
import struct

import torch

torch.manual_seed(20261127)

Q = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
CONV = "lora_unet_down_blocks_0_resnets_0_conv1"
FC1 = "lora_te_text_model_encoder_layers_0_mlp_fc1"
PROJ = "lora_unet_mid_block_attentions_0_proj_out"


def factor(*shape):
    return (torch.randn(*shape) * 0.5).to(torch.float16)


sd = {}
sd[Q + ".lora_down.weight"] = factor(2, 8)
sd[Q + ".lora_up.weight"] = factor(8, 2)
sd[Q + ".alpha"] = torch.tensor(1.0).to(torch.float16)
sd[CONV + ".lora_down.weight"] = factor(2, 8, 3, 3)
sd[CONV + ".lora_up.weight"] = factor(8, 2, 1, 1)
sd[CONV + ".alpha"] = torch.tensor(4.0).to(torch.float16)
sd[FC1 + ".lora_down.weight"] = factor(1, 8)
sd[FC1 + ".lora_up.weight"] = factor(16, 1)
sd[FC1 + ".alpha"] = torch.tensor(1.0).to(torch.float16)
# stored transposed: the pickle records a stride, the reader must honour it
sd[PROJ + ".lora_down.weight"] = factor(8, 2).t()
sd[PROJ + ".lora_up.weight"] = factor(8, 2)
sd[PROJ + ".alpha"] = torch.tensor(2.0).to(torch.float16)

torch.save(sd, "kohya-tiny.pt")
torch.save(sd, "kohya-tiny-legacy.pt", _use_new_zipfile_serialization=False)

DTYPES = {torch.float16: "F16", torch.float32: "F32"}
header = {}
blobs = []
offset = 0
for name, t in sd.items():
    data = t.contiguous().numpy().tobytes()
    header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
with open("kohya-tiny.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)))
    f.write(text)
    for b in blobs:
        f.write(b)
print("wrote kohya-tiny.pt, kohya-tiny-legacy.pt, kohya-tiny.safetensors:", len(sd), "tensors")
