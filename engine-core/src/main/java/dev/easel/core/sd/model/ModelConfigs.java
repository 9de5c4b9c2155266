package dev.easel.core.sd.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Finds the config of a checkpoint the way AUTOMATIC1111 does: an explicit file, else {@code NAME.yaml} or
 * {@code NAME.json} beside it, else the standard SD1.x/SD2.x architecture recognised from its keys. Config files use
 * the ldm yaml layout ({@code model.params.unet_config.params}, {@code first_stage_config.params.ddconfig}, ...), with
 * the text encoder's sizes optionally under {@code cond_stage_config.text_config} (Hugging Face names).
 */
public final class ModelConfigs {
    static final String SD1_TEXT_KEY = "cond_stage_model.transformer.text_model.final_layer_norm.weight";
    static final String SD1_OLD_TEXT_KEY = "cond_stage_model.transformer.final_layer_norm.weight";
    static final String SD2_TEXT_KEY = "cond_stage_model.model.ln_final.weight";

    private ModelConfigs() {
    }

    /** Metadata key under which Easel stores the ldm config of a model whose architecture its keys do not tell. */
    public static final String METADATA_KEY = "easel_model_config";

    /** The config for {@code checkpoint}: explicit, beside it, in its metadata ({@link #METADATA_KEY}), or recognised. */
    public static SdModelConfig resolve(Path checkpoint, TensorSource source, Path explicit) throws IOException {
        if (explicit != null) {
            return read(explicit);
        }
        Optional<Path> beside = checkpoint == null ? Optional.empty() : besideConfig(checkpoint);
        if (beside.isPresent()) {
            return read(beside.get());
        }
        String embedded = source.metadata().get(METADATA_KEY);
        if (embedded != null) {
            try {
                return parse(new ObjectMapper().readTree(embedded));
            } catch (IOException | IllegalArgumentException | NullPointerException e) {
                throw new ModelLoadException(checkpoint, "invalid " + METADATA_KEY + " metadata: " + e.getMessage(), e);
            }
        }
        return recognise(source);
    }

    /** Whether {@code config} is a standard SD1.x/SD2.x architecture, which {@link #recognise} finds from keys. */
    public static boolean isStandard(SdModelConfig config) {
        return config.equals(SdModelConfig.sd1()) || config.equals(SdModelConfig.sd2("eps"))
                || config.equals(SdModelConfig.sd2("v"));
    }

    /** {@code config} in the ldm layout {@link #parse} reads (json), with the text encoder's sizes as text_config. */
    public static String toJson(SdModelConfig config) {
        ObjectMapper json = new ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode root = json.createObjectNode();
        com.fasterxml.jackson.databind.node.ObjectNode params = root.putObject("model")
                .put("target", "ldm.models.diffusion.ddpm.LatentDiffusion").putObject("params");
        ScheduleConfig s = config.schedule();
        params.put("linear_start", s.linearStart()).put("linear_end", s.linearEnd()).put("timesteps", s.timesteps())
                .put("parameterization", s.prediction()).put("scale_factor", config.vae().scaleFactor())
                .put("conditioning_key", "crossattn").put("channels", config.unet().inChannels());
        UNetConfig u = config.unet();
        com.fasterxml.jackson.databind.node.ObjectNode up = params.putObject("unet_config")
                .put("target", "ldm.modules.diffusionmodules.openaimodel.UNetModel").putObject("params");
        up.put("in_channels", u.inChannels()).put("out_channels", u.outChannels())
                .put("model_channels", u.modelChannels()).put("num_res_blocks", u.numResBlocks())
                .put("num_heads", u.numHeads()).put("num_head_channels", u.numHeadChannels())
                .put("context_dim", u.contextDim()).put("use_linear_in_transformer", u.useLinearInTransformer())
                .put("use_spatial_transformer", true).put("legacy", false);
        u.channelMult().forEach(up.putArray("channel_mult")::add);
        u.attentionResolutions().forEach(up.putArray("attention_resolutions")::add);
        u.transformerDepth().forEach(up.putArray("transformer_depth")::add);
        VaeConfig v = config.vae();
        com.fasterxml.jackson.databind.node.ObjectNode fs = params.putObject("first_stage_config")
                .put("target", "ldm.models.autoencoder.AutoencoderKL").putObject("params");
        fs.put("embed_dim", v.embedDim());
        com.fasterxml.jackson.databind.node.ObjectNode dd = fs.putObject("ddconfig");
        dd.put("double_z", v.doubleZ()).put("z_channels", v.zChannels()).put("resolution", v.resolution())
                .put("in_channels", v.inChannels()).put("out_ch", v.outCh()).put("ch", v.ch())
                .put("num_res_blocks", v.numResBlocks()).put("dropout", 0.0);
        v.chMult().forEach(dd.putArray("ch_mult")::add);
        v.attnResolutions().forEach(dd.putArray("attn_resolutions")::add);
        TextEncoderConfig t = config.text();
        com.fasterxml.jackson.databind.node.ObjectNode cs = params.putObject("cond_stage_config");
        cs.put("target", t.openClip() ? "ldm.modules.encoders.modules.FrozenOpenCLIPEmbedder"
                : "ldm.modules.encoders.modules.FrozenCLIPEmbedder");
        cs.putObject("params").put("layer", t.defaultClipSkip() == 2 ? "penultimate" : "last");
        cs.putObject("text_config").put("vocab_size", t.vocabSize()).put("max_position_embeddings", t.maxPositions())
                .put("hidden_size", t.width()).put("num_hidden_layers", t.layers())
                .put("num_attention_heads", t.heads()).put("intermediate_size", t.intermediate())
                .put("hidden_act", t.activation()).put("layer_norm_eps", t.layerNormEps())
                .put("projection_dim", t.projectionDim()).put("pad_token_id", t.padTokenId());
        try {
            return json.writeValueAsString(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code NAME.yaml}, {@code NAME.yml} or {@code NAME.json} next to {@code NAME.safetensors}. */
    public static Optional<Path> besideConfig(Path checkpoint) {
        Path name = checkpoint.getFileName();
        if (name == null) {
            return Optional.empty();
        }
        String n = name.toString();
        int dot = n.lastIndexOf('.');
        String stem = dot > 0 ? n.substring(0, dot) : n;
        for (String ext : List.of(".yaml", ".yml", ".json")) {
            Path p = checkpoint.resolveSibling(stem + ext);
            if (!p.equals(checkpoint) && Files.isRegularFile(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Standard SD1.x or SD2.x, from the text encoder's keys and the UNet's context width. */
    public static SdModelConfig recognise(TensorSource source) throws ModelLoadException {
        String probe = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight";
        Optional<TensorInfo> toK = source.info(probe);
        if (toK.isEmpty()) {
            toK = source.info("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight");
        }
        boolean sd1Text = source.contains(SD1_TEXT_KEY) || source.contains(SD1_OLD_TEXT_KEY)
                || (source.contains("text_encoder.text_model.final_layer_norm.weight")
                && !source.contains("text_encoder.text_model.encoder.layers.12.mlp.fc1.weight"));
        boolean sd2Text = source.contains(SD2_TEXT_KEY);
        if (toK.isPresent() && toK.get().rank() == 2) {
            long ctx = toK.get().dim(1);
            if (ctx == 768 && sd1Text) {
                return SdModelConfig.sd1();
            }
            int diffusersLayers = 0;
            for (TensorInfo t : source.tensors()) {
                String n = t.name();
                String pre = "text_encoder.text_model.encoder.layers.";
                if (n.startsWith(pre)) {
                    int dot = n.indexOf('.', pre.length());
                    diffusersLayers = Math.max(diffusersLayers, Integer.parseInt(n.substring(pre.length(), dot)) + 1);
                }
            }
            if (ctx == 1024 && !sd2Text && diffusersLayers > 12) {
                // diffusers' SD2 text encoder keeps the 23 layers SD2 uses (it drops the last one and the projection):
                // penultimate of 24 = last of 23
                TextEncoderConfig t = TextEncoderConfig.sd2();
                TextEncoderConfig text = new TextEncoderConfig(true, t.vocabSize(), t.maxPositions(), t.width(),
                        diffusersLayers, t.heads(), t.intermediate(), t.activation(), t.layerNormEps(), 0, 1,
                        t.padTokenId());
                String pred = source.metadata().getOrDefault("modelspec.prediction_type", "epsilon");
                SdModelConfig sd2 = SdModelConfig.sd2(pred.toLowerCase(Locale.ROOT).startsWith("v") ? "v" : "eps");
                return new SdModelConfig("sd2", sd2.unet(), sd2.vae(), text, sd2.schedule());
            }
            if (ctx == 1024 && sd2Text) {
                String pred = source.metadata().getOrDefault("modelspec.prediction_type", "epsilon");
                return SdModelConfig.sd2(pred.toLowerCase(Locale.ROOT).startsWith("v") ? "v" : "eps");
            }
        }
        throw new ModelLoadException(source.location(), "is not a standard SD1.x/SD2.x checkpoint (no "
                + (toK.isEmpty() ? "'" + probe + "'" : "matching text encoder for context width "
                + toK.get().shape()[1]) + "); give its config with --config FILE or put NAME.yaml beside it");
    }

    /** Reads an ldm-style config (yaml or json). */
    public static SdModelConfig read(Path file) throws IOException {
        JsonNode root;
        try {
            String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
            ObjectMapper mapper = n.endsWith(".json") ? new ObjectMapper() : new YAMLMapper();
            root = mapper.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelLoadException(file, "cannot read config: " + e.getMessage(), e);
        }
        try {
            return parse(root);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new ModelLoadException(file, "invalid model config: " + e.getMessage(), e);
        }
    }

    /** Parses the ldm layout. */
    public static SdModelConfig parse(JsonNode root) {
        JsonNode params = need(need(root, "model"), "params");
        JsonNode u = need(need(params, "unet_config"), "params");
        List<Integer> mult = ints(need(u, "channel_mult"));
        JsonNode depthNode = u.path("transformer_depth");
        List<Integer> depth = new ArrayList<>();
        if (depthNode.isArray()) {
            depth.addAll(ints(depthNode));
        } else {
            for (int i = 0; i < mult.size(); i++) {
                depth.add(depthNode.asInt(1));
            }
        }
        UNetConfig unet = new UNetConfig(u.path("in_channels").asInt(4), u.path("out_channels").asInt(4),
                need(u, "model_channels").asInt(), mult, need(u, "num_res_blocks").asInt(),
                ints(need(u, "attention_resolutions")), u.path("num_heads").asInt(-1),
                u.path("num_head_channels").asInt(-1), need(u, "context_dim").asInt(), depth,
                u.path("use_linear_in_transformer").asBoolean(false));

        JsonNode fs = need(need(params, "first_stage_config"), "params");
        JsonNode dd = need(fs, "ddconfig");
        VaeConfig vae = new VaeConfig(need(dd, "ch").asInt(), ints(need(dd, "ch_mult")), need(dd, "num_res_blocks")
                .asInt(), ints(dd.path("attn_resolutions")), dd.path("resolution").asInt(256),
                dd.path("in_channels").asInt(3), dd.path("out_ch").asInt(3), need(dd, "z_channels").asInt(),
                need(fs, "embed_dim").asInt(), dd.path("double_z").asBoolean(true),
                params.path("scale_factor").asDouble(0.18215));

        JsonNode cs = need(params, "cond_stage_config");
        String target = cs.path("target").asText("");
        boolean openClip = target.contains("OpenCLIP");
        TextEncoderConfig base = openClip ? TextEncoderConfig.sd2() : TextEncoderConfig.sd1();
        String layer = cs.path("params").path("layer").asText(openClip ? "penultimate" : "last");
        int skip = switch (layer) {
            case "last" -> 1;
            case "penultimate" -> 2;
            default -> throw new IllegalArgumentException("cond_stage_config layer '" + layer + "' is not supported");
        };
        JsonNode tc = cs.path("text_config");
        TextEncoderConfig text = new TextEncoderConfig(openClip, tc.path("vocab_size").asInt(base.vocabSize()),
                tc.path("max_position_embeddings").asInt(base.maxPositions()),
                tc.path("hidden_size").asInt(base.width()), tc.path("num_hidden_layers").asInt(base.layers()),
                tc.path("num_attention_heads").asInt(base.heads()),
                tc.path("intermediate_size").asInt(base.intermediate()),
                tc.path("hidden_act").asText(base.activation()),
                (float) tc.path("layer_norm_eps").asDouble(base.layerNormEps()),
                tc.path("projection_dim").asInt(base.projectionDim()), skip,
                tc.path("pad_token_id").asInt(base.padTokenId()));
        ScheduleConfig schedule = new ScheduleConfig(params.path("linear_start").asDouble(0.00085),
                params.path("linear_end").asDouble(0.012), params.path("timesteps").asInt(1000),
                params.path("parameterization").asText("eps"));
        String family = openClip ? "sd2" : "sd1";
        return new SdModelConfig(family, unet, vae, text, schedule);
    }

    private static JsonNode need(JsonNode node, String field) {
        JsonNode n = node.get(field);
        if (n == null || n.isNull()) {
            throw new IllegalArgumentException("missing '" + field + "'");
        }
        return n;
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        if (array.isArray()) {
            array.forEach(n -> out.add(n.asInt()));
        } else if (!array.isMissingNode() && !array.isNull()) {
            out.add(array.asInt());
        }
        return out;
    }
}
