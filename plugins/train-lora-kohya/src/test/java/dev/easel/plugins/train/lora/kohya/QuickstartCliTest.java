package dev.easel.plugins.train.lora.kohya;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.cli.EaselCli;
import dev.easel.core.format.safetensors.SafetensorsReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code easel quickstart} as a user runs it, with the merge, LoRA and LoRA-training plugins on the class path. */
class QuickstartCliTest {
    @TempDir
    Path dir;

    @Test
    void runsTheMainJobAndWritesAReport() throws Exception {
        Path out = dir.resolve("qs");
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        int status = EaselCli.run(new PrintWriter(stdout), new PrintWriter(stderr), "quickstart", "--out",
                out.toString());
        assertEquals(0, status, stderr.toString());
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("weighted_sum/basic"), report);
        assertTrue(report.contains("## 3. Weighted sum"), report);
        assertTrue(report.contains("## 4. Block-weighted merge"), report);
        assertTrue(report.contains("## 6. LoRA: extract, inspect, bake"), report);
        assertTrue(report.contains("## 7. Sampling"), report);
        assertTrue(report.contains("## 8. Train a LoRA"), report);
        try (SafetensorsReader r = SafetensorsReader.open(out.resolve("lora/redsquare.safetensors"))) {
            assertTrue(r.metadata().containsKey("ss_network_dim"), r.metadata().toString());
        }
        for (String model : new String[] {"a", "b", "weighted-sum", "block-weighted", "a-baked"}) {
            try (SafetensorsReader r = SafetensorsReader.open(out.resolve("models/" + model + ".safetensors"))) {
                assertTrue(r.tensors().size() > 100, model + ": " + r.tensors().size());
            }
        }
        try (SafetensorsReader r = SafetensorsReader.open(out.resolve("models/a-to-mix.safetensors"))) {
            assertTrue(r.metadata().containsKey("ss_network_dim"), r.metadata().toString());
        }
        for (String png : new String[] {"a.png", "a-lora.png", "a-baked.png", "redsquare.png"}) {
            byte[] bytes = Files.readAllBytes(out.resolve(png));
            assertTrue(bytes.length > 100 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', png);
        }
        assertTrue(stdout.toString().contains("report: "), stdout.toString());
    }
}
