package dev.easel.core.sd.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.model.Component;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.sd.clip.ClipTextEncoder;
import dev.easel.core.sd.nn.Layer;
import dev.easel.core.sd.nn.NetworkState;
import dev.easel.core.sd.nn.WeightSource;
import dev.easel.core.sd.schedule.NoiseSchedule;
import dev.easel.core.sd.tokenizer.ClipBpe;
import dev.easel.core.sd.tokenizer.ClipTokenizer;
import dev.easel.core.sd.unet.UNet;
import dev.easel.core.sd.vae.AutoencoderKL;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Stable Diffusion model built from a checkpoint: tokenizer, CLIP text encoder, UNet, VAE and noise schedule, its
 * parameters in one NDManager it owns. Parameters are frozen (no gradient) until a training method asks for them.
 */
public final class SdModel implements AutoCloseable {
    /** Key prefixes the networks own; a key under them that no network takes is an error. */
    public static final List<String> NETWORK_PREFIXES = List.of("model.diffusion_model.", "first_stage_model.",
            "cond_stage_model.", "unet.", "vae.", "text_encoder.");

    private final SdModelConfig config;
    private final NDManager manager;
    private final NetworkState state = new NetworkState();
    private final ClipTokenizer tokenizer;
    private final ClipTextEncoder textEncoder;
    private final UNet unet;
    private final AutoencoderKL vae;
    private final NoiseSchedule schedule;

    private SdModel(SdModelConfig config, NDManager manager, WeightSource source) {
        this(config, manager, source, ClipBpe.bundled());
    }

    private SdModel(SdModelConfig config, NDManager manager, WeightSource source, ClipBpe bpe) {
        this.config = config;
        this.manager = manager;
        this.tokenizer = new ClipTokenizer(bpe, config.text().padTokenId());
        this.textEncoder = new ClipTextEncoder(config.text(), source, state);
        this.unet = new UNet(config.unet(), source, state);
        this.vae = new AutoencoderKL(config.vae(), source, state);
        this.schedule = new NoiseSchedule(config.schedule(), manager);
    }

    /**
     * Builds the networks from a checkpoint opened by any model format. Fails naming the first missing or mis-shaped
     * key, or the first keys no network takes.
     */
    public static SdModel load(TensorSource source, SdModelConfig config, NDManager parent) throws ModelLoadException {
        NDManager manager = parent.newSubManager();
        try {
            CheckpointWeights weights = new CheckpointWeights(source, manager, false);
            SdModel model = new SdModel(config, manager, weights, tokenizerOf(source));
            weights.checkNoExtraKeys(NETWORK_PREFIXES, SdModel::ignorable);
            return model;
        } catch (ModelLoadException.Unchecked e) {
            manager.close();
            throw e.getCause();
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** A model folder's own {@code tokenizer/} (diffusers), else the bundled CLIP vocabulary. */
    private static ClipBpe tokenizerOf(TensorSource source) throws ModelLoadException {
        Path folder = source.location() == null ? null : source.location().resolve("tokenizer");
        if (folder == null || !java.nio.file.Files.isRegularFile(folder.resolve("merges.txt"))) {
            return ClipBpe.bundled();
        }
        try {
            return ClipBpe.fromTokenizerFolder(folder);
        } catch (IOException e) {
            throw new ModelLoadException(null, e.getMessage(), e);
        }
    }

    /** Checks that a checkpoint fits the config key by key and shape by shape, reading no tensor data. */
    public static void checkLayout(TensorSource source, SdModelConfig config) throws ModelLoadException {
        try {
            CheckpointWeights weights = new CheckpointWeights(source, null, true);
            new SdModel(config, null, weights);
            weights.checkNoExtraKeys(NETWORK_PREFIXES, SdModel::ignorable);
        } catch (ModelLoadException.Unchecked e) {
            throw e.getCause();
        }
    }

    /** A model with random parameters ({@link RandomWeights}), for tests and demos. */
    public static SdModel random(SdModelConfig config, long seed, NDManager parent) {
        NDManager manager = parent.newSubManager();
        return new SdModel(config, manager, new RandomWeights(seed, manager));
    }

    /** Every key and shape the networks of {@code config} take, in build order; allocates nothing. */
    public static PlannedWeights plan(SdModelConfig config) {
        PlannedWeights plan = new PlannedWeights();
        new SdModel(config, null, plan);
        return plan;
    }

    /** Keys a checkpoint may carry beside the network weights. */
    public static boolean ignorable(String key) {
        return key.startsWith("model_ema.")
                || key.endsWith("embeddings.position_ids")
                || key.equals("cond_stage_model.model.logit_scale")
                || key.equals("cond_stage_model.model.attn_mask");
    }

    /** Opens a checkpoint and its config as {@link ModelConfigs#resolve} finds it, and loads it. */
    public static SdModel open(TensorSource source, Path checkpoint, Path explicitConfig, NDManager parent)
            throws IOException {
        return load(source, ModelConfigs.resolve(checkpoint, source, explicitConfig), parent);
    }

    public SdModelConfig config() {
        return config;
    }

    /** The manager holding the parameters. */
    public NDManager manager() {
        return manager;
    }

    public NetworkState state() {
        return state;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    public ClipTextEncoder textEncoder() {
        return textEncoder;
    }

    public UNet unet() {
        return unet;
    }

    public AutoencoderKL vae() {
        return vae;
    }

    public NoiseSchedule schedule() {
        return schedule;
    }

    /** Weight-bearing modules of one network. */
    public List<Layer> layers(Component component) {
        return switch (component) {
            case TEXT_ENCODER -> textEncoder.layers();
            case UNET -> unet.layers();
            case VAE -> vae.layers();
            case TEXT_ENCODER_2 -> List.of();
        };
    }

    /** Every weight-bearing module. */
    public List<Layer> allLayers() {
        List<Layer> all = new ArrayList<>(textEncoder.layers());
        all.addAll(unet.layers());
        all.addAll(vae.layers());
        return all;
    }

    /**
     * Scaled latents of images for training ({@code [B, 3, H, W]} in [-1, 1] → posterior mean × scale factor):
     * deterministic, so latents can be cached.
     */
    public NDArray encodeImages(NDArray pixels) {
        AutoencoderKL.Posterior p = vae.encode(pixels);
        NDArray latents = p.mean().mul((float) config.vae().scaleFactor());
        p.logvar().close();
        return latents;
    }

    /** Images ({@code [B, 3, H, W]}, about [-1, 1]) of scaled latents. */
    public NDArray decodeLatents(NDArray latents) {
        return vae.decode(latents.mul((float) (1.0 / config.vae().scaleFactor())));
    }

    /**
     * SHA-256 over the VAE's parameters (float32, in layer order) and its config: a stable identity for caches of
     * encoded latents. Two models with the same VAE weights give the same value.
     */
    public String vaeFingerprint() {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update(config.vae().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            for (Layer l : vae.layers()) {
                md.update(l.ldmName().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update(l.weight().toByteBuffer(true));
                if (l.bias() != null) {
                    md.update(l.bias().toByteBuffer(true));
                }
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Pixels per latent cell (8 for SD). */
    public int latentScale() {
        return config.vae().downsampleFactor();
    }

    /** Tokens of prompts, {@code [B, 77]} int64, framed for this family (no emphasis, 75-token truncation). */
    public NDArray tokenIds(NDManager m, List<String> prompts) {
        long[] ids = new long[prompts.size() * ClipTokenizer.CONTEXT];
        for (int i = 0; i < prompts.size(); i++) {
            int[] t = tokenizer.tokenize(prompts.get(i));
            for (int j = 0; j < t.length; j++) {
                ids[i * ClipTokenizer.CONTEXT + j] = t[j];
            }
        }
        return m.create(ids, new ai.djl.ndarray.types.Shape(prompts.size(), ClipTokenizer.CONTEXT));
    }

    @Override
    public void close() {
        if (manager != null) {
            manager.close();
        }
    }
}
