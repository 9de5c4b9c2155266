/**
 * The model formats built into the engine and the rule that picks one for a path.
 *
 * <p>The core carries the formats the engine cannot work without (safetensors, PyTorch checkpoints read safely,
 * diffusers folders) so that conversion and merging work with no plugin installed; further formats arrive as
 * {@link dev.easel.api.format.ModelFormat} plugins and are chosen by the same {@link dev.easel.core.format.ModelFormats}
 * rule: content beats name, and a tie is an error rather than a guess.
 */
package dev.easel.core.format;
