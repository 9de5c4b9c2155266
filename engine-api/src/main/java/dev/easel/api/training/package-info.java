/**
 * The {@link dev.easel.api.training.TrainingMethod} SPI. A method does not own the training loop; the engine
 * does (data, noise, timesteps, optimiser, schedules, checkpoints, logging). A method:
 * <ol>
 *   <li>declares its parameters ({@link dev.easel.api.EaselPlugin#parameters()});</li>
 *   <li>installs what it trains and where it hooks the network through {@link dev.easel.api.training.NetworkHooks}:
 *       wrapped linear/conv modules (LoRA and its variants, hypernetwork-free Custom Diffusion), selected base
 *       weights (full fine-tuning, DreamBooth, Custom Diffusion k/v, aesthetic gradients), new token embeddings
 *       (textual inversion, Dream Artist, Custom Diffusion modifier tokens), the cross-attention context
 *       (hypernetworks), the guidance step (Dream Artist's negative embedding, null-text inversion), or free
 *       tensors of its own;</li>
 *   <li>defines its loss on top of the shared diffusion loss ({@link dev.easel.api.training.TrainingSession#loss}),
 *       using dataset roles for prior preservation, or replacing it (CLIP inversion, aesthetic gradients);</li>
 *   <li>exports its result in the format its users load.</li>
 * </ol>
 * {@code docs/plugin-authoring.md} maps every method of the mission onto these hooks.
 *
 * <p>Version 0.x: see {@link dev.easel.api.model}. 0.11.0 added
 * {@link dev.easel.api.training.TrainingStep#perSampleDiffusionLoss(java.util.List)} (the loss under other prompts)
 * and {@link dev.easel.api.training.TrainingExport#torchSave} (torch-loadable pickles such as A1111 embeddings).
 * 0.12.0 added {@link dev.easel.api.training.TrainingContext#readTensors} (start from an earlier result).
 */
@Export
@Version("0.12.0")
package dev.easel.api.training;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
