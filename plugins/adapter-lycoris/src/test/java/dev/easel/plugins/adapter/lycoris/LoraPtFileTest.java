package dev.easel.plugins.adapter.lycoris;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.cli.EaselCli;
import dev.easel.core.format.safetensors.SafetensorsReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA files saved with {@code torch.save} (kohya's {@code save_model_as=pt}, A1111-era tools), read through the
 * restricted unpickler: real torch-written fixtures ({@code pt/make_pt_fixtures.py}, zip and legacy pickle format,
 * one factor stored as a transposed view) must inspect, bake and convert exactly as their safetensors twin.
 */
class LoraPtFileTest {
    @TempDir
    Path dir;
    Path base;
    Path zip;
    Path legacy;
    Path twin;
    String stdout;
    String stderr;

    @BeforeEach
    void fixtures() throws IOException {
        base = dir.resolve("sd1.safetensors");
        TinyModels.writeSd1(base, 1);
        zip = copy("kohya-tiny.pt");
        legacy = copy("kohya-tiny-legacy.pt");
        twin = copy("kohya-tiny.safetensors");
    }

    Path copy(String name) throws IOException {
        Path target = dir.resolve(name);
        try (InputStream in = LoraPtFileTest.class.getResourceAsStream("pt/" + name)) {
            assertTrue(in != null, "fixture pt/" + name + " is missing");
            Files.copy(in, target);
        }
        return target;
    }

    int easel(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = EaselCli.run(new PrintWriter(out), new PrintWriter(err), args);
        stdout = out.toString();
        stderr = err.toString();
        return rc;
    }

    /** The report without the fields that name the file itself. */
    JsonNode inspect(Path file) throws IOException {
        assertEquals(0, easel("lora", "inspect", file.toString(), "--base", base.toString(), "--json"), stderr);
        ObjectNode report = (ObjectNode) new ObjectMapper().readTree(stdout);
        report.remove(List.of("file", "path", "format"));
        return report;
    }

    /** Every tensor's type, shape and bytes, by name. */
    static Map<String, String> tensors(Path file) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            for (TensorInfo t : r.tensors()) {
                ByteBuffer b = r.read(t.name()).duplicate();
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                out.put(t.name(), t.dtype() + java.util.Arrays.toString(t.shape()) + " "
                        + java.util.HexFormat.of().formatHex(bytes));
            }
        }
        return out;
    }

    static Map<String, String> metadata(Path file) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            return new TreeMap<>(r.metadata());
        }
    }

    @Test
    void inspectSeesTheSameModulesAsTheSafetensorsTwin() throws IOException {
        JsonNode expected = inspect(twin);
        assertEquals(4, expected.get("modules").size(), expected.toString());
        assertEquals(0, expected.get("unmatched").size(), expected.toString());
        assertEquals(expected, inspect(zip));
        assertEquals(expected, inspect(legacy));
        JsonNode proj = null;
        for (JsonNode m : inspect(zip).get("modules")) {
            if (m.get("name").asText().equals("lora_unet_mid_block_attentions_0_proj_out")) {
                proj = m;
            }
        }
        assertEquals(2.0, proj.get("alpha").asDouble());
        assertEquals(TinyModels.UNET + "middle_block.1.proj_out.weight", proj.get("target").asText());

        assertEquals(0, easel("lora", "inspect", zip.toString()), stderr);
        assertTrue(stdout.contains("lora/kohya (4)"), stdout);
    }

    @Test
    void bakeGivesTheSameCheckpointAsTheSafetensorsTwin() throws IOException {
        Path fromTwin = dir.resolve("twin-baked.safetensors");
        assertEquals(0, easel("lora", "bake", "--base", base.toString(), "--lora", twin + ":0.8", "--out",
                fromTwin.toString()), stderr);
        assertTrue(stdout.contains("4 modules baked into 4 keys"), stdout);
        Map<String, String> expected = tensors(fromTwin);
        assertFalse(expected.equals(tensors(base)), "the bake changed nothing");
        for (Path pt : List.of(zip, legacy)) {
            Path out = dir.resolve(pt.getFileName() + "-baked.safetensors");
            assertEquals(0, easel("lora", "bake", "--base", base.toString(), "--lora", pt + ":0.8", "--out",
                    out.toString()), stderr);
            assertEquals(expected, tensors(out), pt.getFileName().toString());
        }
    }

    /** Converts {@code in} into a folder of its own, so that outputs from different inputs have the same name. */
    Path convert(Path in, String to) throws IOException {
        Path folder = Files.createDirectories(dir.resolve(in.getFileName() + "-" + to));
        Path out = folder.resolve("converted.safetensors");
        assertEquals(0, easel("lora", "convert", in.toString(), "--to", to, "--out", out.toString()), stderr);
        return out;
    }

    @Test
    void convertGivesTheSameFilesAsTheSafetensorsTwin() throws IOException {
        for (String to : List.of("peft", "kohya")) {
            Path fromTwin = convert(twin, to);
            Map<String, String> expected = tensors(fromTwin);
            Map<String, String> expectedMeta = metadata(fromTwin);
            expectedMeta.remove("modelspec.date");
            assertFalse(expected.isEmpty());
            for (Path pt : List.of(zip, legacy)) {
                Path out = convert(pt, to);
                assertEquals(expected, tensors(out), pt.getFileName() + " --to " + to);
                Map<String, String> meta = metadata(out);
                meta.remove("modelspec.date");
                assertEquals(expectedMeta, meta, pt.getFileName() + " --to " + to + " metadata");
            }
        }
        // and the converted file is itself a LoRA the tools read back
        assertEquals(0, easel("lora", "inspect", dir.resolve("kohya-tiny.pt-peft/converted.safetensors").toString()),
                stderr);
        assertTrue(stdout.contains("lora/peft (4)"), stdout);
    }

    @Test
    void aTruncatedPtFileFailsNamingTheFile() throws IOException {
        Path broken = dir.resolve("broken.pt");
        byte[] all = Files.readAllBytes(zip);
        Files.write(broken, java.util.Arrays.copyOf(all, all.length / 2));
        assertEquals(1, easel("lora", "inspect", broken.toString()));
        assertTrue(stderr.contains("broken.pt"), stderr);
        assertEquals(1, stderr.strip().lines().count(), stderr);
        Path out = dir.resolve("never.safetensors");
        assertEquals(1, easel("lora", "bake", "--base", base.toString(), "--lora", broken.toString(), "--out",
                out.toString()));
        assertFalse(Files.exists(out));
        assertArrayEquals(all, Files.readAllBytes(zip));
    }
}
