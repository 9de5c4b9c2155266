package dev.easel.core.format.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.ModelFormats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chunked writes (what the converter streams) and the file order they follow. */
class SafetensorsWritePartTest {
    @TempDir
    Path dir;

    @Test
    void partsAssembleTensorsAndCountOnlyWhenComplete() throws IOException {
        WritePlan plan = new WritePlan(List.of(new TensorInfo("small", DType.F16, 2),
                new TensorInfo("big", DType.F32, 4)), Map.of());
        Path file = dir.resolve("parts.safetensors");
        try (SafetensorsWriter w = SafetensorsWriter.create(file, plan)) {
            assertEquals(List.of("big", "small"), w.fileOrder().stream().map(TensorInfo::name).toList());
            ByteBuffer big = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 4; i++) {
                big.putFloat(i * 4, i + 0.5f);
            }
            w.writePart("big", 8, big.duplicate().position(8).slice());
            assertThrows(IOException.class, w::commit); // "big" is half written, "small" missing
            w.writePart("big", 0, big.duplicate().limit(8).slice());
            assertThrows(IllegalArgumentException.class, () -> w.writePart("big", 12, ByteBuffer.allocate(8)));
            assertThrows(IllegalArgumentException.class, () -> w.writePart("nope", 0, ByteBuffer.allocate(1)));
            w.write("small", ByteBuffer.allocate(4));
            w.commit();
        }
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertEquals(3.5f, r.read("big").getFloat(12));
            assertEquals(0.5f, r.read("big").getFloat(0));
        }
    }

    @Test
    void builtInFormatsNeedNoEngine() {
        assertEquals(List.of("format/diffusers", "format/pytorch", "format/safetensors"),
                ModelFormats.builtIn().stream().map(f -> f.descriptor().id()).sorted().toList());
    }
}
