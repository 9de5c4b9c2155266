package dev.easel.core.format.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.api.format.ModelFormatException;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SafetensorsReaderTest {
    @TempDir
    Path dir;

    @Test
    void readsEveryDtypeOfAReferenceFile() throws IOException {
        Path file = SafetensorsTestFiles.fixture("reference-torch.safetensors", dir);
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertEquals(Map.of("format", "pt"), r.metadata());
            assertEquals("format/safetensors", r.formatId());
            assertEquals(13, r.tensors().size());
            // file order is offset order: widest dtype first
            assertEquals("position_ids", r.tensors().get(0).name());
            assertEquals(new TensorInfo("b.weight", DType.F32, 2, 3), r.info("b.weight").orElseThrow());
            ByteBuffer w = r.read("b.weight");
            for (int i = 0; i < 6; i++) {
                assertEquals(i, w.getFloat(i * 4));
            }
            ByteBuffer ids = r.read("position_ids");
            assertEquals(4L, ids.getLong(32));
            assertEquals(2.5f, r.read("scalar").getFloat(0));
            assertEquals(0, r.info("scalar").orElseThrow().rank());
            assertEquals(0, r.read("empty").remaining());
            assertEquals(0x3C00, Short.toUnsignedInt(r.read("a.bias").getShort(2))); // 1.0 in f16
            assertEquals(0x3F80, Short.toUnsignedInt(r.read("B.upper").getShort(2))); // 1.0 in bf16
            ByteBuffer mask = r.read("mask");
            assertArrayEquals(new byte[] {1, 0, 1}, new byte[] {mask.get(0), mask.get(1), mask.get(2)});
            assertEquals(-2, r.read("int8").get(0));
            assertEquals(1.0, r.read("double").getDouble(8));
            assertEquals(1.0f, r.read("unicodé ключ").getFloat(4));
            assertTrue(r.read("b.weight").isReadOnly());
        }
    }

    @Test
    void readsUnsignedAndComplexTypes() throws IOException {
        Path file = SafetensorsTestFiles.fixture("reference-numpy.safetensors", dir);
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertEquals(Map.of("quote\"and\\slash\n", "ü"), r.metadata());
            assertEquals(DType.U16, r.info("u16").orElseThrow().dtype());
            assertEquals(2, Short.toUnsignedInt(r.read("u16").getShort(4)));
            assertEquals(2L, r.read("u64").getLong(16));
            assertEquals(DType.C64, r.info("c64").orElseThrow().dtype());
            assertEquals(1.0f, r.read("c64").getFloat(8)); // real part of element 1
        }
    }

    @Test
    void unknownTensorIsNoSuchElement() throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(
                SafetensorsTestFiles.fixture("reference-nometa.safetensors", dir))) {
            assertTrue(r.metadata().isEmpty());
            assertThrows(NoSuchElementException.class, () -> r.read("nope"));
        }
    }

    @Test
    void concurrentReadsSeeTheRightBytes() throws Exception {
        int n = 64;
        StringBuilder header = new StringBuilder("{");
        for (int i = 0; i < n; i++) {
            header.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":{\"dtype\":\"I32\",\"shape\":[256],")
                    .append("\"data_offsets\":[").append(i * 1024).append(',').append((i + 1) * 1024).append("]}");
        }
        header.append('}');
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + n * 1024).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (int i = 0; i < n * 256; i++) {
            b.putInt(i);
        }
        Path file = dir.resolve("many.safetensors");
        Files.write(file, b.array());
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int round = 0; round < 8; round++) {
                for (int i = 0; i < n; i++) {
                    int t = i;
                    results.add(pool.submit(() -> {
                        ByteBuffer data = r.read("t" + t);
                        for (int k = 0; k < 256; k++) {
                            if (data.getInt(k * 4) != t * 256 + k) {
                                return false;
                            }
                        }
                        return true;
                    }));
                }
            }
            for (Future<Boolean> f : results) {
                assertTrue(f.get());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void readsTensorsBeyondTwoGigabytes() throws IOException {
        long size = 1_200_000_000L; // two of these put the second one past the 2 GB mapping limit
        String header = "{\"a\":{\"dtype\":\"U8\",\"shape\":[" + size + "],\"data_offsets\":[0," + size + "]},"
                + "\"b\":{\"dtype\":\"U8\",\"shape\":[" + size + "],\"data_offsets\":[" + size + "," + (2 * size)
                + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
            raf.write(len.array());
            raf.write(h);
            raf.setLength(8 + h.length + 2 * size); // sparse: no disk used
            raf.seek(8 + h.length + 2 * size - 1);
            raf.write(42);
        }
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            ByteBuffer b = r.read("b");
            assertEquals(size, b.remaining());
            assertEquals(42, b.get((int) size - 1));
            assertEquals(0, b.get(0));
        } finally {
            Files.delete(file);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown dtype|{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}|4|unknown dtype 'F33'",
        "lower-case dtype|{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}|4|unknown dtype",
        "size mismatch|{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}|4|needs 8",
        "hole|{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}|8|leaving a hole",
        "overlap|{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}|8|overlaps",
        "trailing bytes|{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}|12|8 bytes after its last tensor",
        "truncated data|{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}|8|truncated",
        "reversed offsets|{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}|4|end before they begin",
        "extra field|{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}|4|unknown header field 'x'",
        "missing offsets|{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}|4|data_offsets must be an array",
        "negative dim|{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}|4|not a natural number",
        "fractional dim|{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}|4|not a natural number",
        "shape overflow|{\"a\":{\"dtype\":\"F64\",\"shape\":[281474976710655,281474976710655],\"data_offsets\":[0,8]}}|8|no valid byte size",
        "numeric metadata|{\"__metadata__\":{\"k\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}|4|is not a string",
        "duplicate name|{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}|8|Duplicate field 'a'",
        "not json|{not json}|0|not valid JSON",
        "array header|[1,2,3]|0|does not start with '{'",
        "sub-byte misfit|{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}|2|does not fill whole bytes",
    })
    void rejectsBrokenHeaders(String label, String header, int dataBytes, String expected) throws IOException {
        Path file = SafetensorsTestFiles.craft(dir, "bad.safetensors", header, dataBytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsReader.open(file));
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), label + ": " + e.getMessage());
    }

    @Test
    void acceptsSubByteTypesThatFillBytes() throws IOException {
        Path file = SafetensorsTestFiles.craft(dir, "f4.safetensors",
                "{\"a\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[0,2]}}", 2);
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertEquals(2, r.read("a").remaining());
        }
    }

    @Test
    void rejectsHugeHeaderLengthWithoutAllocating() throws IOException {
        Path file = SafetensorsTestFiles.craft(dir, "huge.safetensors", 99_999_999L, "{}".getBytes(), 0);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsReader.open(file));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Path over = SafetensorsTestFiles.craft(dir, "over.safetensors", 100_000_001L, "{}".getBytes(), 0);
        e = assertThrows(ModelFormatException.class, () -> SafetensorsReader.open(over));
        assertTrue(e.getMessage().contains("exceeds the 100000000-byte limit"), e.getMessage());
        Path negative = SafetensorsTestFiles.craft(dir, "neg.safetensors", -1L, "{}".getBytes(), 0);
        e = assertThrows(ModelFormatException.class, () -> SafetensorsReader.open(negative));
        assertTrue(e.getMessage().contains("18446744073709551615"), e.getMessage());
    }

    @Test
    void rejectsTinyEmptyAndInvalidUtf8Files() throws IOException {
        Path empty = dir.resolve("empty.safetensors");
        Files.write(empty, new byte[0]);
        assertTrue(assertThrows(ModelFormatException.class, () -> SafetensorsReader.open(empty)).getMessage()
                .contains("shorter than the 8-byte header length"));
        Path badUtf8 = SafetensorsTestFiles.craft(dir, "utf.safetensors", 4, new byte[] {'{', (byte) 0xC3, '}', ' '},
                0);
        assertTrue(assertThrows(ModelFormatException.class, () -> SafetensorsReader.open(badUtf8)).getMessage()
                .contains("not valid UTF-8"));
        Path missing = dir.resolve("missing.safetensors");
        assertTrue(assertThrows(ModelFormatException.class, () -> SafetensorsReader.open(missing)).getMessage()
                .contains("no such file"));
    }

    @Test
    void everyTruncationOfAValidFileIsRejected() throws IOException {
        byte[] good = Files.readAllBytes(SafetensorsTestFiles.fixture("reference-torch.safetensors", dir));
        for (int cut = 0; cut < good.length; cut += 7) {
            Path file = dir.resolve("cut" + cut + ".safetensors");
            Files.write(file, java.util.Arrays.copyOf(good, cut));
            assertThrows(ModelFormatException.class, () -> SafetensorsReader.open(file), "cut at " + cut);
            Files.delete(file);
        }
    }

    @Test
    void acceptsEmptyModel() throws IOException {
        Path file = SafetensorsTestFiles.craft(dir, "none.safetensors", "{}      ", 0);
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertTrue(r.tensors().isEmpty());
        }
    }
}
