package dev.easel.core.sd.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.easel.core.format.safetensors.SafetensorsReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real SD1.5 key layout (sd-mecha's list, test resource sd15/ldm-keys.txt): the networks built from the SD1
 * config ask for exactly its keys and shapes, and a full-size synthetic checkpoint (a sparse file: 4.3 GB of zeros
 * that take no disk) loads through the safetensors reader with no key error.
 */
class Sd15LayoutTest {
    @TempDir
    Path dir;

    /** key → [shape, dtype, component, optional?] from the resource. */
    static Map<String, String[]> reference() throws IOException {
        Map<String, String[]> out = new LinkedHashMap<>();
        try (InputStream in = Sd15LayoutTest.class.getResourceAsStream("/sd15/ldm-keys.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.trim().split(" ");
                out.put(f[0], Arrays.copyOfRange(f, 1, f.length));
            }
        }
        return out;
    }

    static long[] shape(String s) {
        String body = s.substring(1, s.length() - 1);
        return body.isEmpty() ? new long[0] : Arrays.stream(body.split(",")).mapToLong(Long::parseLong).toArray();
    }

    @Test
    void networksPlanExactlyTheSd15Keys() throws IOException {
        Map<String, String[]> ref = reference();
        Map<String, PlannedWeights.Planned> plan = SdModel.plan(SdModelConfig.sd1()).keys();
        List<String> wanted = new ArrayList<>();
        for (var e : ref.entrySet()) {
            String comp = e.getValue()[2];
            boolean optional = e.getValue().length > 3 && e.getValue()[3].equals("optional");
            if (!optional && !comp.equals("ema") && !comp.equals("scheduler")) {
                wanted.add(e.getKey());
                assertTrue(plan.containsKey(e.getKey()), "network does not take " + e.getKey());
                assertEquals(Arrays.toString(shape(e.getValue()[0])), Arrays.toString(plan.get(e.getKey()).shape()),
                        e.getKey());
            }
        }
        for (String k : plan.keySet()) {
            assertTrue(ref.containsKey(k), "network asks for " + k + ", which SD1.5 does not have");
        }
        assertEquals(wanted.size(), plan.size());
        assertEquals(686 + 248 + 196, plan.size());
    }

    /** A safetensors file with the given keys and real shapes whose data is a hole (sparse, zeros). */
    static Path sparseCheckpoint(Path file, Map<String, String[]> keys) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        long offset = 0;
        for (var e : keys.entrySet()) {
            long[] s = shape(e.getValue()[0]);
            String dtype = e.getValue()[1].equals("int64") ? "I64" : e.getValue()[1].equals("int32") ? "I32" : "F32";
            long size = Arrays.stream(s).reduce(1, Math::multiplyExact) * (dtype.equals("I64") ? 8 : 4);
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", dtype);
            var arr = t.putArray("shape");
            Arrays.stream(s).forEach(arr::add);
            t.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        byte[] h = json.writeValueAsBytes(header);
        int padded = (h.length + 7) / 8 * 8;
        byte[] hp = Arrays.copyOf(h, padded);
        Arrays.fill(hp, h.length, padded, (byte) ' ');
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            raf.write(len.array());
            raf.write(hp);
            raf.setLength(8 + padded + offset);
        }
        return file;
    }

    private Map<String, String[]> filtered(Map<String, String[]> ref, Predicate<String> keep) {
        Map<String, String[]> out = new LinkedHashMap<>();
        ref.forEach((k, v) -> {
            if (keep.test(k)) {
                out.put(k, v);
            }
        });
        return out;
    }

    @Test
    void fullSizeCheckpointLoadsWithoutKeyErrors() throws IOException {
        Path file = sparseCheckpoint(dir.resolve("sd15.safetensors"), reference());
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            SdModelConfig config = ModelConfigs.resolve(file, r, null);
            assertEquals("sd1", config.family());
            SdModel.checkLayout(r, config);
        }
    }

    @Test
    void missingExtraAndMisShapedKeysAreNamed() throws IOException {
        Map<String, String[]> ref = reference();
        String gone = "model.diffusion_model.output_blocks.5.2.conv.weight";
        Path missing = sparseCheckpoint(dir.resolve("missing.safetensors"), filtered(ref, k -> !k.equals(gone)));
        try (SafetensorsReader r = SafetensorsReader.open(missing)) {
            ModelLoadException e = assertThrows(ModelLoadException.class,
                    () -> SdModel.checkLayout(r, SdModelConfig.sd1()));
            assertTrue(e.getMessage().contains(gone) && e.getMessage().contains("missing"), e.getMessage());
            assertTrue(e.getMessage().startsWith(missing.toString()), e.getMessage());
        }
        Map<String, String[]> extra = new LinkedHashMap<>(ref);
        extra.put("model.diffusion_model.input_blocks.1.1.extra.weight", new String[] {"[4]", "float32", "diffuser"});
        Path withExtra = sparseCheckpoint(dir.resolve("extra.safetensors"), extra);
        try (SafetensorsReader r = SafetensorsReader.open(withExtra)) {
            ModelLoadException e = assertThrows(ModelLoadException.class,
                    () -> SdModel.checkLayout(r, SdModelConfig.sd1()));
            assertTrue(e.getMessage().contains("input_blocks.1.1.extra.weight"), e.getMessage());
        }
        Map<String, String[]> wrong = new LinkedHashMap<>(ref);
        String key = "first_stage_model.decoder.up.1.block.0.nin_shortcut.weight";
        wrong.put(key, new String[] {"[256,512,3,3]", "float32", "vae"});
        Path misShaped = sparseCheckpoint(dir.resolve("shape.safetensors"), wrong);
        try (SafetensorsReader r = SafetensorsReader.open(misShaped)) {
            ModelLoadException e = assertThrows(ModelLoadException.class,
                    () -> SdModel.checkLayout(r, SdModelConfig.sd1()));
            assertTrue(e.getMessage().contains(key) && e.getMessage().contains("[256, 512, 3, 3]"), e.getMessage());
        }
    }
}
