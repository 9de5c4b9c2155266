package dev.easel.core.train.config;

import static dev.easel.api.ParameterSpec.bool;
import static dev.easel.api.ParameterSpec.choice;
import static dev.easel.api.ParameterSpec.floating;
import static dev.easel.api.ParameterSpec.integer;
import static dev.easel.api.ParameterSpec.text;

import dev.easel.api.ParameterSchema;
import java.util.List;

/**
 * The keys the training engine itself reads (model, data, loop, output), under kohya's names so that a
 * {@code train_network.py} config file works unchanged. A method plugin declares its own keys in its schema; a key
 * both declare reaches both.
 */
public final class EngineKeys {
    /** Sentinel of {@code seed}: pick a random seed and log it. */
    public static final long RANDOM_SEED = -1;

    /** The schema every job config is validated against, before the method's. */
    public static final ParameterSchema SCHEMA = ParameterSchema.of(List.of(
            // model
            text("pretrained_model_name_or_path", null, "The base model: a checkpoint file or diffusers folder."),
            text("method", "", "The training method id (lora/kohya); kohya configs name it by network_module."),
            text("network_module", "", "kohya's network module (networks.lora selects lora/kohya)."),
            bool("v_parameterization", false, "The model predicts velocity (SD2 768-v); trains on the v target."),
            integer("clip_skip", 1, 1, 12, "Use the output of the n-th last text-encoder layer."),
            integer("max_token_length", 75, 75, 225, "Prompt length in tokens: 75, 150 or 225."),
            choice("mixed_precision", "no", List.of("no", "fp16", "bf16"),
                    "Precision of frozen weights where the device supports it; trainable tensors stay fp32."),
            // output
            text("output_dir", "output", "Folder for the result, checkpoints, log and loss curve."),
            text("output_name", "last", "Base name of the result files."),
            choice("save_model_as", "safetensors", List.of("safetensors", "ckpt", "pt", "diffusers", "all"),
                    "Result file format; each method's schema says which it writes (all: every one it can)."),
            choice("save_precision", "float", List.of("float", "fp16", "bf16"), "Precision of saved tensors."),
            integer("save_every_n_steps", 0, 0, Integer.MAX_VALUE,
                    "Save the result and a resumable state every N steps (0: only at the end)."),
            integer("save_every_n_epochs", 0, 0, Integer.MAX_VALUE, "Save the result and state every N epochs."),
            bool("save_state", true, "Write a resumable state folder with each checkpoint."),
            integer("save_last_n_steps", 0, 0, Integer.MAX_VALUE,
                    "kohya: keep only checkpoints from the last N steps (0: keep all)."),
            integer("save_last_n_steps_state", 0, 0, Integer.MAX_VALUE,
                    "kohya: keep only states from the last N steps (0: as save_last_n_steps)."),
            integer("keep_last_n_checkpoints", 0, 0, Integer.MAX_VALUE,
                    "Keep only the newest N checkpoints and states (0: keep all)."),
            text("resume", "", "A state folder to resume from exactly, or 'latest' for the newest in output_dir."),
            text("training_comment", "", "Free text stored in the result's metadata."),
            // data
            text("train_data_dir", "", "Folder of images with captions, or of kohya N_name subfolders."),
            text("reg_data_dir", "", "Folder of regularisation images (kohya N_name subfolders)."),
            text("dataset_config", "", "A kohya dataset TOML (datasets and subsets)."),
            text("resolution", "512", "Training resolution: 512 or 512,768 (width,height)."),
            bool("enable_bucket", false, "Aspect-ratio bucketing."),
            integer("min_bucket_reso", 256, 8, 8192, "Smallest bucket side."),
            integer("max_bucket_reso", 1024, 8, 8192, "Largest bucket side."),
            integer("bucket_reso_steps", 64, 8, 1024, "Bucket side step (a multiple of 8)."),
            bool("bucket_no_upscale", false, "Never upscale an image to fill its bucket."),
            text("caption_extension", ".caption", "Extension of caption files (.txt also found)."),
            bool("shuffle_caption", false, "Shuffle comma-separated tags each time a caption is used."),
            integer("keep_tokens", 0, 0, 1000, "Keep the first N tags in place when shuffling."),
            text("keep_tokens_separator", "", "Tags before this separator stay in place when shuffling."),
            floating("caption_dropout_rate", 0, 0, 1, "Probability of training an image with an empty caption."),
            integer("caption_dropout_every_n_epochs", 0, 0, Integer.MAX_VALUE,
                    "Drop every caption in every N-th epoch."),
            floating("caption_tag_dropout_rate", 0, 0, 1, "Probability of dropping each (non-kept) tag."),
            text("caption_prefix", "", "Text put before every caption."),
            text("caption_suffix", "", "Text put after every caption."),
            bool("flip_aug", false, "Horizontally flip images at random (both latents cached)."),
            bool("random_crop", false, "Random instead of centre crop (latents then encoded each step)."),
            text("latent_cache_dir", "", "Where VAE latents are cached (default: the user's cache folder)."),
            bool("cache_latents", true, "Cache VAE latents (always on disk in Easel)."),
            bool("cache_latents_to_disk", true, "Cache VAE latents on disk (always in Easel)."),
            integer("vae_batch_size", 1, 1, 1024, "Images per VAE call while caching latents."),
            integer("train_batch_size", 1, 1, 4096, "Images per step (from one bucket)."),
            floating("prior_loss_weight", 1, 0, 1000, "Loss weight of regularisation/class images."),
            // loop
            integer("max_train_steps", 1600, 1, Integer.MAX_VALUE, "Optimiser steps to train."),
            integer("max_train_epochs", 0, 0, Integer.MAX_VALUE, "Epochs to train; overrides max_train_steps."),
            integer("seed", RANDOM_SEED, -1, Long.MAX_VALUE, "Seed of every random choice (-1: random, logged)."),
            integer("gradient_accumulation_steps", 1, 1, 4096, "Batches whose gradients make one step."),
            floating("max_grad_norm", 1, 0, 1e9, "Clip the global gradient norm (0: no clipping)."),
            text("learning_rate", "1e-4",
                    "Learning rate, or an A1111 schedule 'lr:step, lr:step, lr' of absolute rates."),
            choice("lr_scheduler", "constant", List.of("constant", "constant_with_warmup", "cosine",
                    "cosine_with_restarts", "linear", "polynomial"), "How the learning rate changes over steps."),
            floating("lr_warmup_steps", 0, 0, 1e12, "Warm-up steps; below 1 a fraction of max_train_steps."),
            integer("lr_scheduler_num_cycles", 1, 1, 100000, "Restarts of cosine_with_restarts."),
            floating("lr_scheduler_power", 1, 0, 100, "Power of the polynomial schedule."),
            text("optimizer_type", "AdamW", "AdamW, Lion, SGDNesterov, SGD or Prodigy (8-bit names map to these)."),
            text("optimizer_args", "", "Optimizer options: weight_decay=0.01 betas=0.9,0.999 eps=1e-8 ..."),
            bool("use_8bit_adam", false, "kohya's old switch for AdamW8bit (trains as AdamW)."),
            bool("use_lion_optimizer", false, "kohya's old switch for Lion."),
            floating("noise_offset", 0, 0, 10, "Offset noise strength (0.1 typical)."),
            bool("noise_offset_random_strength", false, "Scale the offset by U(0,1) per step."),
            floating("adaptive_noise_scale", 0, -10, 10,
                    "Add this times each latent channel's |mean| to the noise offset (needs noise_offset)."),
            integer("multires_noise_iterations", 0, 0, 100, "Multires (pyramid) noise levels (6-10 typical; 0: off)."),
            floating("multires_noise_discount", 0.3, 0, 1, "Weight decay per multires noise level."),
            floating("ip_noise_gamma", 0, 0, 10, "Input-perturbation noise strength (0.1 typical)."),
            bool("ip_noise_gamma_random_strength", false, "Scale the input perturbation by U(0,1) per step."),
            floating("min_snr_gamma", 0, 0, 1000, "Min-SNR-gamma loss weighting (5 recommended; 0: off)."),
            bool("debiased_estimation_loss", false, "Weight the loss by 1/sqrt(SNR)."),
            bool("scale_v_pred_loss_like_noise_pred", false, "Scale the v loss by SNR/(SNR+1)."),
            integer("min_timestep", 0, 0, 1000, "Smallest timestep sampled."),
            integer("max_timestep", 1000, 1, 1000, "Timesteps are sampled below this."),
            choice("loss_type", "l2", List.of("l2", "l1", "huber", "smooth_l1"), "Per-element loss."),
            floating("huber_c", 0.1, 1e-9, 1000, "Huber threshold c0 (huber, smooth_l1)."),
            choice("huber_schedule", "snr", List.of("snr", "exponential", "constant"),
                    "How the Huber threshold changes with the timestep."),
            floating("huber_scale", 1, 0, 1000, "Scale of the constant and exponential Huber thresholds."),
            // previews
            integer("sample_every_n_steps", 0, 0, Integer.MAX_VALUE, "Render preview images every N steps."),
            integer("sample_every_n_epochs", 0, 0, Integer.MAX_VALUE, "Render preview images every N epochs."),
            bool("sample_at_first", false, "Render previews before the first step."),
            text("sample_prompts", "", "kohya prompt file: one prompt per line with --n --w --h --d --l --s."),
            text("sample_sampler", "ddim", "Default sampler of the previews.")));

    private EngineKeys() {
    }
}
