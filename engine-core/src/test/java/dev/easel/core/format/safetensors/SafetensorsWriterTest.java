package dev.easel.core.format.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"reference-torch.safetensors", "reference-numpy.safetensors",
        "reference-nometa.safetensors"})
    void rewritesReferenceFilesByteForByte(String fixture) throws Exception {
        Path reference = SafetensorsTestFiles.fixture(fixture, dir);
        Path copy = dir.resolve("copy.safetensors");
        try (SafetensorsReader r = SafetensorsReader.open(reference)) {
            List<TensorInfo> shuffled = new ArrayList<>(r.tensors());
            Collections.shuffle(shuffled, new Random(7));
            try (SafetensorsWriter w = SafetensorsWriter.create(copy, new WritePlan(shuffled, r.metadata()))) {
                for (TensorInfo t : shuffled) {
                    w.write(t.name(), r.read(t.name()));
                }
                w.commit();
            }
        }
        assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(copy));
    }

    @Test
    void writesFromManyThreadsInAnyOrder() throws Exception {
        List<TensorInfo> plan = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            plan.add(new TensorInfo("layer." + i + ".weight", i % 2 == 0 ? DType.F32 : DType.F16, i + 1, 3));
        }
        Path target = dir.resolve("threads.safetensors");
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try (SafetensorsWriter w = SafetensorsWriter.create(target, new WritePlan(plan, Map.of("k", "v")))) {
            List<Future<?>> jobs = new ArrayList<>();
            for (TensorInfo t : plan) {
                jobs.add(pool.submit(() -> {
                    ByteBuffer b = ByteBuffer.allocate((int) t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
                    byte fill = (byte) t.name().hashCode();
                    while (b.hasRemaining()) {
                        b.put(fill);
                    }
                    b.flip();
                    w.write(t.name(), b);
                    assertEquals(0, b.position(), "caller's buffer position is left alone");
                    return null;
                }));
            }
            for (Future<?> f : jobs) {
                f.get();
            }
            w.commit();
        } finally {
            pool.shutdown();
        }
        try (SafetensorsReader r = SafetensorsReader.open(target)) {
            assertEquals(Map.of("k", "v"), r.metadata());
            for (TensorInfo t : plan) {
                ByteBuffer b = r.read(t.name());
                assertEquals(t, r.info(t.name()).orElseThrow());
                for (int i = 0; i < b.remaining(); i++) {
                    assertEquals((byte) t.name().hashCode(), b.get(i));
                }
            }
        }
    }

    @Test
    void closeWithoutCommitLeavesNothingAndKeepsTheOldFile() throws IOException {
        Path target = dir.resolve("out.safetensors");
        Files.writeString(target, "old content");
        WritePlan plan = new WritePlan(List.of(new TensorInfo("a", DType.F32, 2)), Map.of());
        try (SafetensorsWriter w = SafetensorsWriter.create(target, plan)) {
            w.write("a", ByteBuffer.allocate(8));
        }
        assertEquals("old content", Files.readString(target));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList());
        }
    }

    @Test
    void commitReplacesTheOldFile() throws IOException {
        Path target = dir.resolve("out.safetensors");
        Files.writeString(target, "old content");
        WritePlan plan = new WritePlan(List.of(new TensorInfo("a", DType.F32)), Map.of());
        try (SafetensorsWriter w = SafetensorsWriter.create(target, plan)) {
            w.write("a", ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, 3f));
            w.commit();
        }
        try (SafetensorsReader r = SafetensorsReader.open(target)) {
            assertEquals(3f, r.read("a").getFloat(0));
        }
    }

    @Test
    void refusesMisuse() throws IOException {
        Path target = dir.resolve("bad.safetensors");
        WritePlan plan = new WritePlan(List.of(new TensorInfo("a", DType.F32, 2), new TensorInfo("b", DType.F16)),
                Map.of());
        try (SafetensorsWriter w = SafetensorsWriter.create(target, plan)) {
            assertThrows(IllegalArgumentException.class, () -> w.write("zzz", ByteBuffer.allocate(8)));
            assertThrows(IllegalArgumentException.class, () -> w.write("a", ByteBuffer.allocate(4)));
            w.write("a", ByteBuffer.allocate(8));
            assertThrows(IllegalArgumentException.class, () -> w.write("a", ByteBuffer.allocate(8)));
            IOException e = assertThrows(IOException.class, w::commit);
            assertTrue(e.getMessage().contains("[b]"), e.getMessage());
        }
        assertFalse(Files.exists(target));
        assertThrows(IOException.class, () -> SafetensorsWriter.create(dir.resolve("no/such/dir/x.safetensors"),
                plan));
    }

    @Test
    void largeHeapBuffersAreWrittenInSlices() throws IOException {
        int n = 5_000_000; // 20 MB: more than one write slice
        Path target = dir.resolve("large.safetensors");
        WritePlan plan = new WritePlan(List.of(new TensorInfo("x", DType.F32, n)), Map.of());
        ByteBuffer data = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            data.putFloat(i);
        }
        data.flip();
        try (SafetensorsWriter w = SafetensorsWriter.create(target, plan)) {
            w.write("x", data);
            w.commit();
        }
        try (SafetensorsReader r = SafetensorsReader.open(target)) {
            ByteBuffer b = r.read("x");
            assertEquals(n - 1, b.getFloat((n - 1) * 4));
            assertEquals(8_388_608f / 4 + 1, b.getFloat((8 << 20) + 4));
        }
    }
}
