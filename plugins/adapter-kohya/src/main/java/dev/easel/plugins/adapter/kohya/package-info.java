/**
 * The kohya and PEFT LoRA adapter types: {@code lora/kohya} ({@code lora_down}/{@code lora_up}/{@code alpha}, Linear,
 * 1x1 and 3x3 conv with a 1x1 up, Tucker {@code lora_mid}) and {@code lora/peft} ({@code lora_A}/{@code lora_B}
 * with the scale from the file's LoraConfig), and kohya's trainable forward for {@code lora/kohya}.
 */
package dev.easel.plugins.adapter.kohya;
