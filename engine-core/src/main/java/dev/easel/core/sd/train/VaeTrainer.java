package dev.easel.core.sd.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.sd.nn.Layer;
import dev.easel.core.sd.vae.AutoencoderKL;
import dev.easel.core.train.data.ImageFiles;
import dev.easel.core.train.data.Seeds;
import dev.easel.core.train.optim.AdamW;
import dev.easel.core.train.optim.Gradients;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Trains a model's VAE (ldm {@code AutoencoderKL}) as an autoencoder: L1 + L2 reconstruction of the decoded
 * posterior sample plus a small KL term, ldm's objective without the perceptual and adversarial terms. The VAE is
 * fully convolutional (its one attention sits at the lowest resolution), so it trains on random crops, which costs a
 * fraction of whole images; it is then used on whole images. Deterministic for a seed on CPU.
 *
 * <p>Afterwards {@link #latentStd} measures the spread of the latents of whole images, from which the model's
 * {@code scale_factor} is set so that the diffusion model sees unit-variance latents, as ldm chose 0.18215 for SD.
 */
public final class VaeTrainer {
    /**
     * Settings of one run.
     *
     * @param klWeight    weight of the KL term, relative to a per-pixel reconstruction loss summed over the image
     *                    (ldm's convention, where SD used 1e-6)
     * @param decoderOnly train the decoder alone with the encoder frozen, so that latents already computed (a latent
     *                    cache, a diffusion model trained on them) stay valid: how SD's ft-MSE VAE was made
     */
    public record Options(int steps, int batch, int crop, double learningRate, double klWeight, long seed,
                          int logEvery, boolean decoderOnly) {
        public Options {
            if (steps < 1 || batch < 1 || logEvery < 1) {
                throw new IllegalArgumentException("steps, batch and log interval must be positive");
            }
            if (crop < 8 || crop % 8 != 0) {
                throw new IllegalArgumentException("crop must be a positive multiple of 8, not " + crop);
            }
        }
    }

    /** What a run did: the loss of every step. */
    public record Result(List<Double> losses, double seconds) {
    }

    private final SdModel model;
    private final float[][] images;
    private final int width;
    private final int height;

    private VaeTrainer(SdModel model, float[][] images, int width, int height) {
        this.model = model;
        this.images = images;
        this.width = width;
        this.height = height;
    }

    /** Reads the images (all of one size, RGB) into memory, as [-1, 1] planes. */
    public static VaeTrainer of(SdModel model, List<Path> files) throws IOException {
        if (files.isEmpty()) {
            throw new IOException("no images to train the VAE on");
        }
        float[][] images = new float[files.size()][];
        int w = -1;
        int h = -1;
        for (int i = 0; i < files.size(); i++) {
            BufferedImage img = ImageFiles.readRgb(files.get(i));
            if (w < 0) {
                w = img.getWidth();
                h = img.getHeight();
            } else if (img.getWidth() != w || img.getHeight() != h) {
                throw new IOException(files.get(i) + ": " + img.getWidth() + "x" + img.getHeight() + ", the other "
                        + "images are " + w + "x" + h);
            }
            images[i] = planes(img);
        }
        return new VaeTrainer(model, images, w, h);
    }

    private static float[] planes(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        float[] out = new float[3 * w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                out[y * w + x] = ((rgb >> 16) & 0xff) / 127.5f - 1;
                out[w * h + y * w + x] = ((rgb >> 8) & 0xff) / 127.5f - 1;
                out[2 * w * h + y * w + x] = (rgb & 0xff) / 127.5f - 1;
            }
        }
        return out;
    }

    /** Trains the VAE's parameters in place. */
    public Result train(Options o, Consumer<String> log) {
        if (o.crop() > width || o.crop() > height) {
            throw new IllegalArgumentException("crop " + o.crop() + " is larger than the images (" + width + "x"
                    + height + ")");
        }
        long t0 = System.nanoTime();
        // the optimiser writes into trainable leaves: grad mode stays off outside the gradient collector
        JniUtils.setGradMode(false);
        AutoencoderKL vae = model.vae();
        List<NDArray> params = new ArrayList<>();
        for (Layer l : vae.layers()) {
            String n = l.ldmName();
            if (!o.decoderOnly() || n.startsWith("first_stage_model.decoder.")
                    || n.startsWith("first_stage_model.post_quant_conv")) {
                params.addAll(l.trainable());
            }
        }
        List<Double> losses = new ArrayList<>();
        NDManager manager = model.manager();
        AdamW adam = new AdamW(manager, 0.9, 0.999, 1e-8, 0.0);
        double recent = 0;
        int warmup = Math.min(100, o.steps() / 10);
        for (int step = 0; step < o.steps(); step++) {
            // activations go to the manager of their input; the networks free finished blocks early by moving
            // results out of every NDScope, so only closing the step's own manager frees them all
            try (NDScope scope = new NDScope(); NDManager work = manager.newSubManager()) {
                Engine.getInstance().setRandomSeed((int) Seeds.mix(o.seed(), step, 1));
                NDArray x = work.create(batch(o, step), new Shape(o.batch(), 3, o.crop(), o.crop()));
                double loss;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    AutoencoderKL.Posterior p = vae.encode(x);
                    NDArray eps = work.randomNormal(p.mean().getShape());
                    NDArray z = p.sample(eps);
                    NDArray rec = vae.decode(z);
                    NDArray diff = rec.sub(x);
                    NDArray recLoss = diff.abs().mean().add(diff.square().mean());
                    // KL(N(mean, var) || N(0, 1)) summed over the latent, per pixel of the image
                    NDArray kl = p.mean().square().add(p.logvar().exp()).sub(1).sub(p.logvar()).sum().mul(0.5)
                            .div((double) x.size());
                    NDArray total = recLoss.add(kl.mul(o.klWeight()));
                    loss = recLoss.getFloat();
                    gc.backward(total);
                }
                Gradients.clip(params, 1.0);
                double lr = o.learningRate() * Math.min(1.0, (step + 1) / (double) Math.max(1, warmup))
                        * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * step / o.steps())));
                adam.step(List.of(params), new double[] {lr});
                Gradients.zero(params);
                losses.add(loss);
                recent += loss;
                if ((step + 1) % o.logEvery() == 0 || step + 1 == o.steps()) {
                    int n = (step + 1) % o.logEvery() == 0 ? o.logEvery() : (step + 1) % o.logEvery();
                    log.accept(String.format(java.util.Locale.ROOT, "vae step %d/%d: reconstruction loss %.4f "
                            + "(lr %.2e, %.1f s)", step + 1, o.steps(), recent / n, lr,
                            (System.nanoTime() - t0) / 1e9));
                    recent = 0;
                }
            }
        }
        for (NDArray p : params) {
            p.setRequiresGradient(false);
        }
        return new Result(losses, (System.nanoTime() - t0) / 1e9);
    }

    /** Random crops (offsets and a horizontal flip per image) of random images, from (seed, step). */
    private float[] batch(Options o, int step) {
        SplittableRandom r = new SplittableRandom(Seeds.mix(o.seed(), step, 2));
        int c = o.crop();
        float[] out = new float[o.batch() * 3 * c * c];
        for (int b = 0; b < o.batch(); b++) {
            float[] img = images[r.nextInt(images.length)];
            int ox = r.nextInt(width - c + 1);
            int oy = r.nextInt(height - c + 1);
            boolean flip = r.nextBoolean();
            for (int ch = 0; ch < 3; ch++) {
                for (int y = 0; y < c; y++) {
                    for (int x = 0; x < c; x++) {
                        int sx = ox + (flip ? c - 1 - x : x);
                        out[((b * 3 + ch) * c + y) * c + x] = img[(ch * height + oy + y) * width + sx];
                    }
                }
            }
        }
        return out;
    }

    /** Mean reconstruction error (L1, on [-1, 1]) of whole images through the posterior mean. */
    public double reconstructionError(int count) {
        double sum = 0;
        int n = Math.min(count, images.length);
        for (int i = 0; i < n; i++) {
            try (NDManager work = model.manager().newSubManager()) {
                NDArray x = work.create(images[i], new Shape(1, 3, height, width));
                NDArray rec = model.vae().decode(model.vae().encode(x).mean());
                sum += rec.sub(x).abs().mean().getFloat();
            }
        }
        return sum / n;
    }

    /** The standard deviation of the unscaled latents (posterior means) of the first {@code count} whole images. */
    public double latentStd(int count) {
        double sum = 0;
        double sumSq = 0;
        long n = 0;
        for (int i = 0; i < Math.min(count, images.length); i++) {
            try (NDManager work = model.manager().newSubManager()) {
                NDArray x = work.create(images[i], new Shape(1, 3, height, width));
                float[] z = model.vae().encode(x).mean().toFloatArray();
                for (float v : z) {
                    sum += v;
                    sumSq += (double) v * v;
                }
                n += z.length;
            }
        }
        double mean = sum / n;
        return Math.sqrt(Math.max(1e-12, sumSq / n - mean * mean));
    }
}
