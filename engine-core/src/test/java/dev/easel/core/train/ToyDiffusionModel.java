package dev.easel.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.model.BaseModule;
import dev.easel.api.model.Component;
import dev.easel.api.model.ModuleKind;
import dev.easel.api.model.NetworkModule;
import dev.easel.api.training.ConditioningHook;
import dev.easel.api.training.ContextHook;
import dev.easel.api.training.GuidanceHook;
import dev.easel.api.training.ModuleWrapper;
import dev.easel.api.training.NetworkHooks;
import dev.easel.api.training.TokenEmbedding;
import dev.easel.core.train.model.DiffusionModel;
import dev.easel.core.train.model.PreviewSampler;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Predicate;

/**
 * A tiny differentiable stand-in for SD: the "VAE" averages 8x8 pixel blocks and mixes RGB into 4 channels, the
 * "text encoder" looks words up in a fixed random table, and the "UNet" is three linear maps: per-pixel channel
 * mixing of the noisy latent, a projection of the mean context, and a timestep term. Enough to learn ε partly,
 * which is all the loop's tests need.
 */
public final class ToyDiffusionModel implements DiffusionModel {
    static final int CHANNELS = 4;
    static final int WIDTH = 8;
    static final int TOKENS = 4;
    static final int VOCAB = 64;

    private final NDManager manager;
    private final float[][] vocab = new float[VOCAB][WIDTH];
    private final float[] vaeMix = new float[CHANNELS * 3];
    private final Map<String, Module> modules = new LinkedHashMap<>();
    private final Map<String, ModuleWrapper> wrappers = new LinkedHashMap<>();
    private final List<String> rendered = new ArrayList<>();
    int encodeCalls;

    ToyDiffusionModel(NDManager manager, long seed) {
        this.manager = manager;
        Random r = new Random(seed);
        for (float[] row : vocab) {
            for (int i = 0; i < WIDTH; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        Random vae = new Random(7);
        for (int i = 0; i < vaeMix.length; i++) {
            vaeMix[i] = (float) vae.nextGaussian() * 0.5f;
        }
        add("unet.in", CHANNELS, CHANNELS, r);
        add("unet.ctx", CHANNELS, WIDTH, r);
        add("unet.time", CHANNELS, 1, r);
    }

    private void add(String name, int out, int in, Random r) {
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * 0.3);
        }
        float[] b = new float[out];
        NDArray weight = manager.create(w, new Shape(out, in));
        NDArray bias = manager.create(b, new Shape(out));
        modules.put(name, new Module(new Info(name, new long[] {out, in}), weight, bias));
    }

    /** The weight of a module, for tests that compare bits. */
    public NDArray weight(String name) {
        return modules.get(name).weight;
    }

    /** Prompts the preview sampler rendered. */
    public List<String> rendered() {
        return rendered;
    }

    @Override
    public NetworkHooks hooks() {
        return new Hooks();
    }

    @Override
    public String vaeIdentity() {
        return "toy-vae-7";
    }

    @Override
    public NDArray encodeImages(NDArray pixels) {
        encodeCalls++;
        Shape s = pixels.getShape();
        long b = s.get(0);
        long h = s.get(2) / 8;
        long w = s.get(3) / 8;
        NDArray pooled = pixels.reshape(b, 3, h, 8, w, 8).mean(new int[] {5}).mean(new int[] {3});
        NDArray mix = manager.create(vaeMix, new Shape(CHANNELS, 3));
        return pooled.transpose(0, 2, 3, 1).matMul(mix.transpose()).transpose(0, 3, 1, 2);
    }

    @Override
    public NDArray encodeText(List<String> prompts) {
        float[] ctx = new float[prompts.size() * TOKENS * WIDTH];
        for (int p = 0; p < prompts.size(); p++) {
            String[] words = prompts.get(p).toLowerCase().split("[^a-z0-9]+");
            int t = 0;
            for (String word : words) {
                if (word.isEmpty() || t >= TOKENS) {
                    continue;
                }
                float[] row = vocab[Math.floorMod(word.hashCode(), VOCAB)];
                System.arraycopy(row, 0, ctx, (p * TOKENS + t) * WIDTH, WIDTH);
                t++;
            }
        }
        return manager.create(ctx, new Shape(prompts.size(), TOKENS, WIDTH));
    }

    @Override
    public NDArray predict(NDArray noisyLatents, NDArray timesteps, NDArray context) {
        NDArray x = noisyLatents.transpose(0, 2, 3, 1);
        NDArray y = forward("unet.in", x);
        NDArray c = forward("unet.ctx", context.mean(new int[] {1}));
        NDArray t = forward("unet.time", timesteps.toType(DataType.FLOAT32, false).div(1000f).reshape(-1, 1));
        long b = noisyLatents.getShape().get(0);
        y = y.add(c.add(t).reshape(b, 1, 1, CHANNELS));
        return y.transpose(0, 3, 1, 2);
    }

    private NDArray forward(String name, NDArray x) {
        Module m = modules.get(name);
        ModuleWrapper wrapper = wrappers.get(name);
        return wrapper != null ? wrapper.forward(x, m, true) : m.forward(x);
    }

    @Override
    public Optional<PreviewSampler> sampler() {
        return Optional.of(prompt -> {
            rendered.add(prompt.prompt());
            BufferedImage img = new BufferedImage(prompt.width() / 8, prompt.height() / 8, BufferedImage.TYPE_INT_RGB);
            img.setRGB(0, 0, (int) prompt.seed());
            return img;
        });
    }

    private record Info(String name, long[] shape) implements NetworkModule {
        @Override
        public Component component() {
            return Component.UNET;
        }

        @Override
        public ModuleKind kind() {
            return ModuleKind.LINEAR;
        }

        @Override
        public String ldmName() {
            return name;
        }

        @Override
        public String diffusersName() {
            return name;
        }

        @Override
        public long[] weightShape() {
            return shape.clone();
        }

        @Override
        public boolean hasBias() {
            return true;
        }
    }

    private record Module(Info info, NDArray weight, NDArray bias) implements BaseModule {
        @Override
        public NDArray forward(NDArray x) {
            return forward(x, weight, bias);
        }

        @Override
        public NDArray forward(NDArray x, NDArray w, NDArray b) {
            NDArray y = x.matMul(w.transpose());
            return b == null ? y : y.add(b);
        }
    }

    private final class Hooks implements NetworkHooks {
        @Override
        public List<NetworkModule> modules(Component component) {
            return component == Component.UNET ? modules.values().stream().map(m -> (NetworkModule) m.info).toList()
                    : List.of();
        }

        @Override
        public void wrap(NetworkModule module, ModuleWrapper wrapper) {
            if (wrappers.putIfAbsent(module.ldmName(), wrapper) != null) {
                throw new IllegalStateException(module.ldmName() + " is wrapped already");
            }
        }

        @Override
        public List<NDArray> trainBaseWeights(Predicate<NetworkModule> selection) {
            List<NDArray> out = new ArrayList<>();
            for (Module m : modules.values()) {
                if (selection.test(m.info)) {
                    out.add(m.weight);
                    out.add(m.bias);
                }
            }
            return out;
        }

        @Override
        public TokenEmbedding addToken(String name, int vectors, String initText) {
            throw new UnsupportedOperationException("toy model");
        }

        @Override
        public void onContext(ContextHook hook) {
            throw new UnsupportedOperationException("toy model");
        }

        @Override
        public void onGuidance(GuidanceHook hook) {
            throw new UnsupportedOperationException("toy model");
        }

        @Override
        public void onConditioning(ConditioningHook hook) {
            throw new UnsupportedOperationException("toy model");
        }

        @Override
        public NDArray encodeText(List<String> prompts) {
            return ToyDiffusionModel.this.encodeText(prompts);
        }

        @Override
        public NDArray textFeatures(List<String> prompts) {
            throw new UnsupportedOperationException("toy model");
        }

        @Override
        public NDArray imageFeatures(NDArray images) {
            throw new UnsupportedOperationException("toy model");
        }
    }
}
