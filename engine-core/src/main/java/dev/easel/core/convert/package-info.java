/**
 * Model conversion: planning output tensors as {@link dev.easel.core.convert.TensorRecipe}s (EMA choice, ldm ↔
 * diffusers naming, float type), round-to-nearest-even float casts, and the streaming writer that produces the
 * output sequentially from memory-mapped input with flat memory.
 */
package dev.easel.core.convert;
