package dev.easel.core.train;

import dev.easel.core.train.loop.StepReport;
import dev.easel.core.train.loop.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The loop's own cost per step (data from the latent cache, noise, loss assembly, backward bookkeeping, clipping,
 * optimiser, logging) at SD1.5 scale, measured with the toy model whose forward and backward are negligible. Run
 * by {@code bench/train-loop-overhead.sh}; skipped in the normal suite.
 */
class TrainLoopBench {
    @Test
    void loopOverheadPerStep() throws IOException {
        Assumptions.assumeTrue(Boolean.getBoolean("easel.bench"), "benchmark: run bench/train-loop-overhead.sh");
        Path tmp = Files.createTempDirectory("easel-train-bench");
        Path data = TrainFixtures.images(tmp.resolve("data"), 32, 512, 512, "png", 1);
        // kohya LoRA rank 16 on SD1.5 (UNet + text encoder) trains 589,824 x 16 values.
        for (long extra : new long[] {0, 589_824L * 16}) {
            Map<String, String> p = TrainFixtures.params(data, tmp.resolve("out-" + extra), tmp.resolve("cache"));
            p.put("resolution", "512");
            p.put("train_batch_size", "4");
            p.put("max_train_steps", "60");
            p.put("extra_params", Long.toString(extra));
            p.put("save_state", "false");
            long[] marks = new long[2];
            TrainingListener timer = new TrainingListener() {
                @Override
                public void step(StepReport r) {
                    if (r.step() == 10) {
                        marks[0] = System.nanoTime();
                    } else if (r.step() == 60) {
                        marks[1] = System.nanoTime();
                    }
                }
            };
            TrainFixtures.train(p, timer, () -> false);
            System.out.printf(Locale.ROOT, "BENCH batch 4, 64x64 latents, %,d trainable values: %.1f ms/step%n",
                    extra + 4 * 4 * 2 + 4 * 2, (marks[1] - marks[0]) / 50 / 1e6);
        }
    }
}
