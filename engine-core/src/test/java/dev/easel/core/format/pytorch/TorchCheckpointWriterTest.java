package dev.easel.core.format.pytorch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.WritePlan;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchCheckpointWriterTest {
    @TempDir
    Path dir;

    /** An A1111 textual-inversion embedding as Embedding.save writes it, with deterministic values. */
    static Map<String, Object> a1111Embedding() {
        ByteBuffer vec = ByteBuffer.allocate(2 * 768 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 2 * 768; i++) {
            vec.putFloat(i * 4, (i % 97) / 97f - 0.5f);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("string_to_token", Map.of("*", 265L));
        root.put("string_to_param", Map.of("*", new TorchCheckpointWriter.Tensor(DType.F32, new long[] {2, 768}, vec)));
        root.put("name", "easel-embedding");
        root.put("step", 1000L);
        root.put("sd_checkpoint", "e1441589a6");
        root.put("sd_checkpoint_name", null);
        return root;
    }

    @Test
    void savedEmbeddingReadsBackAndMatchesTheTorchCheckedFixture() throws IOException {
        Path file = dir.resolve("easel-embedding.pt");
        TorchCheckpointWriter.save(file, a1111Embedding());
        try (TorchCheckpointReader r = TorchCheckpointReader.open(file)) {
            assertEquals(List.of(new TensorInfo("string_to_param.*", DType.F32, 2, 768)), r.tensors());
            assertEquals("easel-embedding", r.metadata().get("name"));
            assertEquals(((i(5) % 97) / 97f - 0.5f), r.read("string_to_param.*").getFloat(5 * 4));
            Map<?, ?> root = (Map<?, ?>) r.root();
            assertEquals(PyNone.NONE, root.get("sd_checkpoint_name"));
            assertEquals(265L, ((Map<?, ?>) root.get("string_to_token")).get("*"));
        }
        String regenerate = System.getProperty("easel.regenerateFixtures");
        if (regenerate != null) {
            // mvn test -Deasel.regenerateFixtures=$PWD/engine-core/src/test/resources/formats/pytorch/easel-written
            Files.copy(file, Path.of(regenerate, "easel-embedding.pt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        // The committed file was written by this code and loaded by torch.load (make_torch_fixtures.py --check);
        // the writer is deterministic, so equal bytes mean torch reads today's output too.
        try (InputStream in = getClass().getResourceAsStream("/formats/pytorch/easel-written/easel-embedding.pt")) {
            assertArrayEquals(in.readAllBytes(), Files.readAllBytes(file));
        }
    }

    private static int i(int v) {
        return v;
    }

    @Test
    void streamingSinkWritesAFlatStateDict() throws IOException {
        WritePlan plan = new WritePlan(List.of(new TensorInfo("a.weight", DType.F16, 2, 2),
                new TensorInfo("b", DType.I64, 3), new TensorInfo("scalar", DType.F32),
                new TensorInfo("empty", DType.BF16, 0, 3)), Map.of());
        Path file = dir.resolve("state.ckpt");
        try (TensorSink sink = TorchCheckpointWriter.create(file, plan)) {
            sink.write("b", ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1).putLong(16, 7));
            sink.write("scalar", ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, 2.5f));
            sink.write("empty", ByteBuffer.allocate(0));
            assertFalse(Files.exists(file));
            sink.write("a.weight", ByteBuffer.allocate(8).putShort(0, (short) 0x3c00));
            sink.commit();
        }
        String regenerate = System.getProperty("easel.regenerateFixtures");
        if (regenerate != null) {
            Files.copy(file, Path.of(regenerate, "state.ckpt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        try (InputStream in = getClass().getResourceAsStream("/formats/pytorch/easel-written/state.ckpt")) {
            assertArrayEquals(in.readAllBytes(), Files.readAllBytes(file));
        }
        try (TorchCheckpointReader r = TorchCheckpointReader.open(file)) {
            assertEquals(plan.tensors(), r.tensors());
            assertEquals(-1L, r.read("b").getLong(0));
            assertEquals(7L, r.read("b").getLong(16));
            assertEquals(2.5f, r.read("scalar").getFloat(0));
            assertEquals(0, r.read("empty").remaining());
        }
        try (var stream = Files.list(dir)) {
            assertEquals(1, stream.count(), "no temporary file left");
        }
    }

    @Test
    void unfinishedSinkLeavesNothing() throws IOException {
        WritePlan plan = new WritePlan(List.of(new TensorInfo("a", DType.F32, 1)), Map.of());
        Path file = dir.resolve("x.pt");
        try (TensorSink sink = TorchCheckpointWriter.create(file, plan)) {
            assertThrows(IOException.class, sink::commit);
        }
        try (var stream = Files.list(dir)) {
            assertEquals(0, stream.count());
        }
        assertThrows(IllegalArgumentException.class, () -> TorchCheckpointWriter.create(file,
                new WritePlan(List.of(new TensorInfo("f8", DType.F8_E4M3, 1)), Map.of())));
        assertTrue(Files.notExists(file));
    }
}
