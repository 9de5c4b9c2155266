package dev.easel.core.synth;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.core.sd.hooks.SdNetworkHooks;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.sd.sampling.GenerationRequest;
import dev.easel.core.sd.sampling.Images;
import dev.easel.core.sd.sampling.Pipeline;
import dev.easel.core.sd.sampling.SamplerKind;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Measures how well a model follows prompts of the synthetic dataset's grammar: samples one image per prompt and holds
 * each against its prompt with {@link ShapeCheck}. Prompts come from {@link SyntheticDataset#scenes} of a seed the
 * training set did not use, so they are combinations the model may never have seen together.
 */
public final class AdherenceEval {
    /**
     * How to sample.
     *
     * @param sampler sampler name as {@code easel sample --sampler} takes it
     */
    public record Settings(String sampler, int steps, float cfg, int size, long seed) {
    }

    /** One sample and what the check saw in it. */
    public record Sample(String prompt, BufferedImage image, ShapeCheck.Verdict verdict) {
    }

    /** Every sample and the rates. */
    public record Result(List<Sample> samples, ShapeCheck.Tally tally) {
        /** The samples side by side, {@code columns} per row. */
        public BufferedImage grid(int columns) {
            int side = samples.get(0).image().getWidth();
            int rows = (samples.size() + columns - 1) / columns;
            BufferedImage g = new BufferedImage(columns * side, rows * side, BufferedImage.TYPE_INT_RGB);
            Graphics2D gr = g.createGraphics();
            for (int i = 0; i < samples.size(); i++) {
                gr.drawImage(samples.get(i).image(), (i % columns) * side, (i / columns) * side, null);
            }
            gr.dispose();
            return g;
        }
    }

    private AdherenceEval() {
    }

    /**
     * The VAE's ceiling for {@link #run}: renders each scene, encodes it and decodes the posterior mean with the
     * model's VAE, and checks the result against the scene's caption. No sample can follow its prompt more reliably
     * than its picture survives the VAE.
     */
    public static Result reconstruct(SdModel model, List<ShapeScene> scenes, int size, NDManager parent,
                                     Consumer<Sample> progress) {
        ShapeCheck.Tally tally = new ShapeCheck.Tally();
        List<Sample> samples = new ArrayList<>();
        for (ShapeScene scene : scenes) {
            String caption = scene.caption();
            BufferedImage image;
            try (NDManager m = parent.newSubManager()) {
                NDArray x = Images.fromImage(m, scene.render(size), size, size);
                image = Images.toImage(model.vae().decode(model.vae().encode(x).mean()));
            }
            ShapeCheck.Verdict v = ShapeCheck.check(image, ShapePrompt.parse(caption).orElseThrow());
            tally.add(v);
            Sample s = new Sample(caption, image, v);
            samples.add(s);
            progress.accept(s);
        }
        return new Result(samples, tally);
    }

    /** {@code count} prompts of {@code dataset}'s grammar, from scenes of {@code seed}. */
    public static List<String> prompts(SyntheticDataset dataset, long seed, int count) {
        List<String> out = new ArrayList<>();
        for (ShapeScene s : dataset.scenes(seed, count)) {
            out.add(s.caption());
        }
        return out;
    }

    /** Samples every prompt (seed {@code settings.seed() + i} for prompt i) and checks it. */
    public static Result run(SdModel model, SdNetworkHooks hooks, List<String> prompts, Settings settings,
                             NDManager parent, Consumer<Sample> progress) {
        Pipeline pipeline = new Pipeline(model, hooks);
        SamplerKind kind = SamplerKind.parse(settings.sampler());
        ShapeCheck.Tally tally = new ShapeCheck.Tally();
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            String prompt = prompts.get(i);
            ShapePrompt expected = ShapePrompt.parse(prompt).orElseThrow(() -> new IllegalArgumentException(
                    "prompt '" + prompt + "' has no \"COLOR SHAPE on a COLOR background\" phrase"));
            BufferedImage image;
            try (NDManager m = parent.newSubManager()) {
                Engine.getInstance().setRandomSeed((int) (settings.seed() + i));
                GenerationRequest r = GenerationRequest.txt2img(prompt, "", kind, settings.steps(), settings.cfg(),
                        settings.seed() + i, settings.size(), settings.size());
                image = Images.toImage(pipeline.generate(m, r, null, null, (step, t, x, x0) -> { }).image());
            }
            ShapeCheck.Verdict v = ShapeCheck.check(image, expected);
            tally.add(v);
            Sample s = new Sample(prompt, image, v);
            samples.add(s);
            progress.accept(s);
        }
        return new Result(samples, tally);
    }
}
