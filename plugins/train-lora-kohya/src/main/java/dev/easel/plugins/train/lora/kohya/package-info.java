/**
 * The {@code lora/kohya} training method: kohya's {@code networks.lora} (LoRA on the UNet's transformer blocks and
 * the text encoder's attention and MLP, LoCon on resnet and sampler convs with {@code conv_dim}), trained through the
 * {@code lora/kohya} adapter type and saved as kohya saves it.
 */
package dev.easel.plugins.train.lora.kohya;
