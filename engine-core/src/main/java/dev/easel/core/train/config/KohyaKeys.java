package dev.easel.core.train.config;

import java.util.Map;
import java.util.Set;

/**
 * kohya {@code train_network.py} keys that Easel does not read itself: those with no meaning here (a warning
 * naming them), those Easel does not support (an error, so a job never silently trains differently from what the
 * file asks), and the network keys a method plugin reads.
 */
public final class KohyaKeys {
    /** Keys with no meaning in Easel, with the reason printed in the warning. */
    public static final Map<String, String> IGNORED = Map.ofEntries(
            Map.entry("xformers", "attention kernels are chosen by the engine"),
            Map.entry("sdpa", "attention kernels are chosen by the engine"),
            Map.entry("mem_eff_attn", "attention kernels are chosen by the engine"),
            Map.entry("gradient_checkpointing", "not implemented yet; training runs without it"),
            Map.entry("max_data_loader_n_workers", "the data pipeline has no worker processes"),
            Map.entry("persistent_data_loader_workers", "the data pipeline has no worker processes"),
            Map.entry("lowram", "memory is managed by the engine"),
            Map.entry("highvram", "memory is managed by the engine"),
            Map.entry("full_fp16", "trainable tensors always stay fp32"),
            Map.entry("full_bf16", "trainable tensors always stay fp32"),
            Map.entry("no_half_vae", "the VAE always encodes in fp32"),
            Map.entry("log_with", "Easel writes a JSONL log and a loss-curve PNG"),
            Map.entry("logging_dir", "Easel writes its log into output_dir"),
            Map.entry("log_prefix", "Easel writes its log into output_dir"),
            Map.entry("log_tracker_name", "no trackers"),
            Map.entry("log_tracker_config", "no trackers"),
            Map.entry("log_config", "the config is stored in the state folder"),
            Map.entry("wandb_api_key", "no trackers"),
            Map.entry("wandb_run_name", "no trackers"),
            Map.entry("console_log_level", "use -Dorg.slf4j.simpleLogger.defaultLogLevel"),
            Map.entry("console_log_file", "use shell redirection"),
            Map.entry("console_log_simple", "use shell redirection"),
            Map.entry("ddp_timeout", "single device"),
            Map.entry("ddp_gradient_as_bucket_view", "single device"),
            Map.entry("ddp_static_graph", "single device"),
            Map.entry("deepspeed", "single device"),
            Map.entry("zero_stage", "single device"),
            Map.entry("tokenizer_cache_dir", "the tokenizer ships with Easel"),
            Map.entry("cache_text_encoder_outputs", "text is encoded per step"),
            Map.entry("skip_cache_check", "cache entries are keyed by content"),
            Map.entry("v2", "the model's version is read from the checkpoint"),
            Map.entry("huggingface_repo_type", "no uploads"),
            Map.entry("huggingface_path_in_repo", "no uploads"),
            Map.entry("huggingface_repo_visibility", "no uploads"),
            Map.entry("fused_backward_pass", "an Adafactor memory option; optimisers here update after backward"),
            Map.entry("cache_info", "images are scanned at every start"),
            Map.entry("config_file", "give the config file to easel train"),
            Map.entry("offload_optimizer_device", "single device"),
            Map.entry("offload_optimizer_nvme_path", "single device"),
            Map.entry("offload_param_device", "single device"),
            Map.entry("offload_param_nvme_path", "single device"),
            Map.entry("zero3_init_flag", "single device"),
            Map.entry("zero3_save_16bit_model", "single device"),
            Map.entry("fp16_master_weights_and_gradients", "trainable tensors always stay fp32"),
            Map.entry("dynamo_backend", "no graph compiler"),
            Map.entry("dynamo_mode", "no graph compiler"),
            Map.entry("dynamo_use_fullgraph", "no graph compiler"),
            Map.entry("dynamo_use_dynamic", "no graph compiler"),
            Map.entry("torch_compile", "no graph compiler"),
            Map.entry("num_cpu_threads_per_process", "libtorch picks its thread count"),
            Map.entry("disable_mmap_load_safetensors", "safetensors are always memory-mapped"),
            Map.entry("mem_eff_save", "results are always written streaming"),
            Map.entry("cpu_offload_checkpointing", "memory is managed by the engine"),
            Map.entry("blocks_to_swap", "memory is managed by the engine"),
            Map.entry("output_config", "the config is stored in the state folder"),
            Map.entry("save_n_epoch_ratio", "use save_every_n_epochs"),
            Map.entry("save_last_n_epochs", "use keep_last_n_checkpoints"),
            Map.entry("save_last_n_epochs_state", "use keep_last_n_checkpoints"),
            Map.entry("save_state_on_train_end", "the final state is always written"),
            Map.entry("huggingface_repo_id", "no uploads"),
            Map.entry("huggingface_token", "no uploads"),
            Map.entry("save_state_to_huggingface", "no uploads"),
            Map.entry("resume_from_huggingface", "no uploads"),
            Map.entry("async_upload", "no uploads"),
            Map.entry("metadata_title", "set by the method"),
            Map.entry("metadata_author", "set by the method"),
            Map.entry("metadata_description", "set by the method"),
            Map.entry("metadata_license", "set by the method"),
            Map.entry("metadata_tags", "set by the method"),
            Map.entry("no_metadata", "metadata is always written"),
            Map.entry("seed_per_epoch", "every random choice derives from seed, epoch and step"),
            Map.entry("initial_step", "resume restores the step"),
            Map.entry("initial_epoch", "resume restores the epoch"),
            Map.entry("skip_until_initial_step", "resume restores the exact data position"));

    /** Known kohya keys Easel does not implement; a config using them is refused. */
    public static final Set<String> UNSUPPORTED = Set.of(
            "in_json", "zero_terminal_snr", "masked_loss", "alpha_mask", "conditioning_data_dir", "color_aug",
            "face_crop_aug_range", "weighted_captions", "v_pred_like_loss", "token_warmup_min", "token_warmup_step",
            "validation_split", "validation_seed", "validate_every_n_steps", "validate_every_n_epochs", "max_validation_steps", "dataset_repeats",
            "enable_wildcard", "secondary_separator", "fp8_base", "fp8_base_unet", "stop_text_encoder_training",
            "dataset_class", "immiscible_noise", "lr_decay_steps", "lr_scheduler_timescale",
            "lr_scheduler_min_lr_ratio", "lr_scheduler_type", "lr_scheduler_args", "vae", "debug_dataset",
            "caption_separator");

    /** kohya's defaults of unsupported keys that are not "off" values; a config may carry these unchanged. */
    public static final Map<String, Object> UNSUPPORTED_DEFAULTS = Map.of("token_warmup_min", 1L,
            "dataset_repeats", 1L, "caption_separator", ",");

    /**
     * Whether an unsupported key's value asks for nothing: false, 0, empty, or kohya's default (GUI-written
     * configs list every key, most at their defaults).
     */
    public static boolean inert(String key, Object value) {
        if (value == null || Boolean.FALSE.equals(value) || (value instanceof java.util.List<?> l && l.isEmpty())) {
            return true;
        }
        if (value instanceof Number n && n.doubleValue() == 0) {
            return true;
        }
        if (value instanceof String str && (str.isBlank() || str.equalsIgnoreCase("false") || str.equals("0"))) {
            return true;
        }
        Object dflt = UNSUPPORTED_DEFAULTS.get(key);
        if (dflt instanceof Number d) {
            try {
                return Double.parseDouble(value.toString().trim()) == d.doubleValue();
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return dflt != null && dflt.toString().equals(value.toString());
    }

    /** Old spellings kohya still accepts, and the key each means. */
    public static final Map<String, String> ALIASES = Map.of("caption_extention", "caption_extension");

    /** Keys of kohya's network training that belong to the method (LoRA and its variants). */
    public static final Set<String> NETWORK = Set.of(
            "network_dim", "network_alpha", "network_args", "network_dropout", "network_weights",
            "network_train_unet_only", "network_train_text_encoder_only", "network_multiplier", "unet_lr",
            "text_encoder_lr", "dim_from_weights", "scale_weight_norms", "base_weights", "base_weights_multiplier",
            "loraplus_lr_ratio", "loraplus_unet_lr_ratio", "loraplus_text_encoder_lr_ratio", "conv_dim",
            "conv_alpha");

    private KohyaKeys() {
    }
}
