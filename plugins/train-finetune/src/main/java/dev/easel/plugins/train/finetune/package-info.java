/**
 * The {@code finetune/full} training method: full fine-tuning of the UNet and optionally the text encoder, as kohya's
 * {@code fine_tune.py}, saved as a whole ldm single-file checkpoint that AUTOMATIC1111, ComfyUI and Easel load.
 */
package dev.easel.plugins.train.finetune;
