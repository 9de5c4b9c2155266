package dev.easel.core.format.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The 8-bit float types some SD files use (F8_E4M3 = torch float8_e4m3fn, F8_E5M2) and the other 1-byte floats. */
class SafetensorsFloat8Test {
    @TempDir
    Path dir;

    @Test
    void readsHandCraftedFloat8Header() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]},"
                + "\"b\":{\"dtype\":\"F8_E5M2\",\"shape\":[1,3],\"data_offsets\":[2,5]}}";
        Path file = SafetensorsTestFiles.craft(dir, "f8.safetensors", header, 5);
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertEquals(new TensorInfo("a", DType.F8_E4M3, 2), r.info("a").orElseThrow());
            assertEquals(new TensorInfo("b", DType.F8_E5M2, 1, 3), r.info("b").orElseThrow());
            assertEquals(3, r.read("b").remaining());
        }
    }

    @Test
    void writesAndReadsEveryOneByteFloat() throws IOException {
        List<DType> types = List.of(DType.F8_E4M3, DType.F8_E5M2, DType.F8_E8M0, DType.F8_E4M3FNUZ, DType.F8_E5M2FNUZ);
        List<TensorInfo> tensors = types.stream().map(t -> new TensorInfo(t.name().toLowerCase(), t, 2, 2)).toList();
        Path file = dir.resolve("all-f8.safetensors");
        try (SafetensorsWriter w = SafetensorsWriter.create(file, new WritePlan(tensors, Map.of()))) {
            byte v = 1;
            for (TensorInfo t : tensors) {
                w.write(t.name(), ByteBuffer.wrap(new byte[] {v, (byte) (v + 1), (byte) (v + 2), (byte) (v + 3)}));
                v += 4;
            }
            w.commit();
        }
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            byte v = 1;
            for (TensorInfo t : tensors) {
                assertEquals(t, r.info(t.name()).orElseThrow());
                assertEquals(ByteBuffer.wrap(new byte[] {v, (byte) (v + 1), (byte) (v + 2), (byte) (v + 3)}),
                        r.read(t.name()));
                v += 4;
            }
        }
    }
}
