package dev.easel.plugins.train.lora.kohya;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.sd.model.RandomModels;
import dev.easel.core.sd.train.SdDiffusionModel;
import dev.easel.core.sd.train.SdDiffusionModelLoader;
import dev.easel.core.train.config.JobConfig;
import dev.easel.core.train.config.JobConfigLoader;
import dev.easel.core.train.loop.NoiseSchedule;
import dev.easel.core.train.loop.StepReport;
import dev.easel.core.train.loop.Trainer;
import dev.easel.core.train.loop.TrainingListener;
import dev.easel.core.train.model.DiffusionModelLoader;
import dev.easel.core.train.model.DiffusionModels;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The training loop's own overhead at a medium config: a kohya LoRA of rank 16 on the text encoder and the UNet of
 * a mid-width SD1-layout model ({@code bench/medium-sd1.json}: 192 channels, three levels of two resnets and a
 * transformer, CLIP-L text encoder), batch 2 of 256x256 images (32x32 latents), AdamW. Each loop step is paired
 * with one pure forward+backward of the same model, same hooks and same shapes (text encoder, UNet, MSE loss,
 * backward; no data, no optimiser, no log), run right after it so both see the same machine load. Reported per
 * step: the loop step's wall time, its own phases (data, compute, update) and the pure forward+backward.
 * Run by {@code bench/train-loop-overhead.sh}; skipped in the normal suite.
 */
class TrainOverheadBench {
    @Test
    void loopOverheadAgainstPureForwardBackward() throws IOException {
        Assumptions.assumeTrue(Boolean.getBoolean("easel.bench"), "benchmark: run bench/train-loop-overhead.sh");
        int steps = Integer.getInteger("easel.bench.steps", 10);
        int warmup = Integer.getInteger("easel.bench.warmup", 2);
        int rank = Integer.getInteger("easel.bench.rank", 16);
        int batch = Integer.getInteger("easel.bench.batch", 2);
        int resolution = Integer.getInteger("easel.bench.resolution", 256);
        Path tmp = Files.createTempDirectory("easel-train-overhead");
        // bench/medium-sd1.json by default (the module's working directory is plugins/train-lora-kohya); also tiny, sd15
        String config = System.getProperty("easel.bench.config", "../../bench/medium-sd1.json");
        long t0 = System.nanoTime();
        Path model = RandomModels.write(config, 1, tmp.resolve("model.safetensors")).model();
        System.out.printf(Locale.ROOT, "BENCH model %s written in %.1f s%n", config, (System.nanoTime() - t0) / 1e9);
        Path data = images(tmp.resolve("img"), 8, resolution);

        Map<String, String> p = LoraJobs.params(model, data, tmp.resolve("out"));
        p.put("resolution", Integer.toString(resolution));
        p.put("train_batch_size", Integer.toString(batch));
        p.put("max_train_steps", Integer.toString(warmup + steps));
        p.put("network_dim", Integer.toString(rank));
        p.put("network_alpha", Integer.toString(rank / 2));
        p.put("learning_rate", "1e-4");
        p.put("latent_cache_dir", tmp.resolve("cache").toString());

        SdDiffusionModel[] loaded = new SdDiffusionModel[1];
        DiffusionModelLoader capturing = SdDiffusionModelLoader.wrapping("capturing", sd -> {
            loaded[0] = sd;
            return sd;
        });
        List<double[]> rows = new ArrayList<>();
        long[] lastEnd = {0};
        TrainingListener timer = new TrainingListener() {
            @Override
            public void step(StepReport r) {
                long reported = System.nanoTime();
                double loopStep = (reported - lastEnd[0]) / 1e9;
                double pure = pureForwardBackward(loaded[0], batch, resolution / 8);
                if (r.step() > warmup) {
                    rows.add(new double[] {loopStep, r.timings().data(), r.timings().compute(), r.timings().update(),
                            pure});
                }
                lastEnd[0] = System.nanoTime();
            }

            @Override
            public void started(long step, long total) {
                lastEnd[0] = System.nanoTime();
            }
        };
        PluginRegistry registry = LoraJobs.registry();
        JobConfig job = new JobConfigLoader(id -> ((KohyaLoraTraining) registry.select(PluginKind.TRAINING_METHOD, id)
                .plugin()).parameters()).load(null, "lora/kohya", p);
        try (NDManager m = LoraJobs.RUNTIME.newManager()) {
            new Trainer(job, registry, new DiffusionModels(List.of(capturing)), m).run(timer, () -> false);
        }
        report(rows, rank, batch, resolution);
    }

    /** Text encoder, UNet, MSE against the noise, backward: what a step computes, without the loop around it. */
    private static double pureForwardBackward(SdDiffusionModel model, int batch, int latent) {
        try (NDScope scope = new NDScope()) {
            NDManager m = model.model().manager();
            NoiseSchedule schedule = new NoiseSchedule(m, model.predictionType());
            Shape shape = new Shape(batch, 4, latent, latent);
            NDArray x0 = m.randomNormal(shape);
            NDArray noise = m.randomNormal(shape);
            long[] ts = new long[batch];
            Arrays.fill(ts, 500);
            NDArray t = m.create(ts);
            List<String> captions = new ArrayList<>();
            for (int i = 0; i < batch; i++) {
                captions.add(i % 2 == 0 ? "a red square" : "a blue square");
            }
            long t0 = System.nanoTime();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray context = model.encodeText(captions);
                NDArray prediction = model.predict(schedule.addNoise(x0, noise, t), t, context);
                NDArray loss = prediction.sub(noise).square().mean();
                loss.getFloat();
                gc.backward(loss);
            }
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    private static void report(List<double[]> rows, int rank, int batch, int resolution) {
        String[] names = {"loop step", "  data", "  compute (fwd+bwd in the loop)", "  update (clip+optimiser+zero)",
            "pure fwd+bwd (paired run)"};
        System.out.printf(Locale.ROOT, "BENCH LoRA rank %d (TE+UNet), batch %d, %dx%d, %d measured steps%n", rank,
                batch, resolution, resolution, rows.size());
        for (int c = 0; c < names.length; c++) {
            double[] v = column(rows, c);
            System.out.printf(Locale.ROOT, "BENCH %-34s median %7.3f s  (min %.3f, max %.3f)%n", names[c],
                    median(v), v[0], v[v.length - 1]);
        }
        double[] ownShare = new double[rows.size()];
        double[] vsPure = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            double[] r = rows.get(i);
            ownShare[i] = (r[0] - r[2]) / r[0];
            vsPure[i] = (r[0] - r[4]) / r[0];
        }
        Arrays.sort(ownShare);
        Arrays.sort(vsPure);
        System.out.printf(Locale.ROOT, "BENCH loop's own share of a step (step - compute) / step: median %.1f %%"
                + " (min %.1f, max %.1f)%n", 100 * median(ownShare), 100 * ownShare[0],
                100 * ownShare[ownShare.length - 1]);
        System.out.printf(Locale.ROOT, "BENCH step against the paired pure fwd+bwd (step - pure) / step: median %.1f %%"
                + " (min %.1f, max %.1f)%n", 100 * median(vsPure), 100 * vsPure[0], 100 * vsPure[vsPure.length - 1]);
    }

    private static double[] column(List<double[]> rows, int c) {
        double[] v = rows.stream().mapToDouble(r -> r[c]).toArray();
        Arrays.sort(v);
        return v;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static Path images(Path dir, int count, int size) throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(5);
        for (int i = 0; i < count; i++) {
            BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    img.setRGB(x, y, (i % 2 == 0 ? 0xA02010 : 0x1020A0) + ((x + y) % 64 << 8) + r.nextInt(16));
                }
            }
            ImageIO.write(img, "png", dir.resolve("img" + i + ".png").toFile());
            Files.writeString(dir.resolve("img" + i + ".txt"), i % 2 == 0 ? "a red square" : "a blue square");
        }
        return dir;
    }
}
