/**
 * LoRA-family adapter files: reading them module by module with the installed
 * {@link dev.easel.api.adapter.AdapterType}s, mapping their module names onto checkpoint keys (kohya, ldm-style,
 * LyCORIS and PEFT/diffusers names; ldm and diffusers checkpoint layouts; SD1.x, SD2.x, SDXL), baking them into
 * checkpoints with the streaming writer, and the factor tools (resize, merge, extract, convert) that write files
 * kohya's tools, A1111, ComfyUI and diffusers load.
 */
package dev.easel.core.adapter;
