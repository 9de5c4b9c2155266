package dev.easel.plugins.train.lora.kohya;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.cli.EaselCli;
import dev.easel.core.format.safetensors.SafetensorsReader;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code easel quickstart} as a user runs it, with the merge, LoRA and LoRA-training plugins on the class path. */
class QuickstartCliTest {
    static final int LORA_STEPS = 60;
    static final int SAMPLES = 4;

    @TempDir
    Path dir;

    @Test
    void runsTheMainJobOnEaselTinyAndMeasuresEveryStep() throws Exception {
        Path out = dir.resolve("qs");
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        // fewer steps and samples than the default run; enough for the LoRA to show its shape
        int status = EaselCli.run(new PrintWriter(stdout), new PrintWriter(stderr), "quickstart", "--out",
                out.toString(), "--lora-steps", Integer.toString(LORA_STEPS), "--samples", Integer.toString(SAMPLES));
        assertEquals(0, status, stderr.toString());
        String report = Files.readString(out.resolve("report.md"));
        for (String section : new String[] {"Engine and plugins", "Easel Tiny", "Sample a grid",
            "Train a LoRA on a shape it never saw", "Bake the LoRA into the model", "Weighted sum",
            "Block-weighted merge", "Extract a LoRA", "What the pixel check saw"}) {
            assertTrue(report.contains(". " + section + "\n"), section + " missing:\n" + report);
        }
        assertTrue(report.contains("weighted_sum/basic"), report);
        try (SafetensorsReader r = SafetensorsReader.open(out.resolve("lora/cross.safetensors"))) {
            assertTrue(r.metadata().containsKey("ss_network_dim"), r.metadata().toString());
        }
        for (String model : new String[] {"tiny-cross", "weighted-sum", "block-weighted"}) {
            try (SafetensorsReader r = SafetensorsReader.open(out.resolve("models/" + model + ".safetensors"))) {
                assertTrue(r.tensors().size() > 900, model + ": " + r.tensors().size());
            }
        }
        try (SafetensorsReader r = SafetensorsReader.open(out.resolve("models/extracted.safetensors"))) {
            assertTrue(r.metadata().containsKey("ss_network_dim"), r.metadata().toString());
        }
        for (String png : new String[] {"base-grid.png", "cross-before.png", "cross-after.png", "cross-merged.png",
            "lora/cross.loss.png"}) {
            byte[] bytes = Files.readAllBytes(out.resolve(png));
            assertTrue(bytes.length > 100 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', png);
            assertTrue(report.contains("(" + png + ")"), png + " not in the report");
        }
        assertTrue(stdout.toString().contains("report: "), stdout.toString());

        // Every rate the pixel check measured is in the summary table.
        for (String row : new String[] {"Easel Tiny, prompts of the training grammar",
            "Easel Tiny, \"a red cross on a blue background\"", "with the cross LoRA", "the LoRA baked in",
            "weighted sum (0.5) of Easel Tiny and the baked model"}) {
            int rate = shapeRate(report, row);
            assertTrue(rate >= 0 && rate <= 100, row + ": " + rate);
        }
        // The LoRA changes what the model draws for the new shape's prompt (same seeds, same sampler).
        // Easel Tiny is not yet good enough for a short LoRA to make the pixel check find crosses reliably
        // (docs/easel-tiny.md), so this test does not assert the cross rate.
        assertTrue(meanAbsDifference(out.resolve("cross-before.png"), out.resolve("cross-after.png")) > 2.0,
                "the LoRA left the samples unchanged");
    }

    static double meanAbsDifference(Path a, Path b) throws Exception {
        BufferedImage x = ImageIO.read(a.toFile());
        BufferedImage y = ImageIO.read(b.toFile());
        assertEquals(x.getWidth(), y.getWidth());
        assertEquals(x.getHeight(), y.getHeight());
        double sum = 0;
        for (int j = 0; j < x.getHeight(); j++) {
            for (int i = 0; i < x.getWidth(); i++) {
                int p = x.getRGB(i, j);
                int q = y.getRGB(i, j);
                for (int shift = 0; shift <= 16; shift += 8) {
                    sum += Math.abs(((p >> shift) & 0xff) - ((q >> shift) & 0xff));
                }
            }
        }
        return sum / (3.0 * x.getWidth() * x.getHeight());
    }

    /** The "shape right" column of a row of the report's summary table. */
    static int shapeRate(String report, String row) {
        Matcher m = Pattern.compile("\\| " + Pattern.quote(row) + " \\| (\\d+) \\| (\\d+)% \\| (\\d+)% \\|")
                .matcher(report);
        assertTrue(m.find(), "no row '" + row + "' in the report");
        return Integer.parseInt(m.group(3));
    }
}
