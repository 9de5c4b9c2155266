package dev.easel.plugins.merge.basic;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.Easel;
import dev.easel.core.EaselOptions;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import dev.easel.core.merge.MergeExecutor;
import dev.easel.core.merge.MergeRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tensor larger than one staging buffer of the write-behind path, merged while other threads write many small
 * tensors: its parts must land at their own offsets (a regression: the part size was read after the buffer had been
 * handed to the writer, and another thread could have refilled it by then).
 */
class ConcurrentWriteMergeTest {
    @TempDir
    Path dir;

    @Test
    void largeTensorsSplitIntoPartsAreWrittenExactlyWhileSmallOnesRunBeside() throws IOException {
        Map<String, Integer> sizes = new LinkedHashMap<>();
        for (int i = 0; i < 300; i++) {
            if (i % 50 == 0) {
                sizes.put(String.format("big.%03d.weight", i), 1_100_000);
            }
            sizes.put(String.format("small.%03d.bias", i), 64);
        }
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        Map<String, float[]> va = write(a, sizes, 1);
        Map<String, float[]> vb = write(b, sizes, 2);
        try (Easel easel = Easel.start(EaselOptions.embedded())) {
            for (int run = 0; run < 6; run++) {
                Path out = dir.resolve("m" + run + ".safetensors");
                MergeExecutor.of(easel).run(MergeRequest.of("weighted_sum", Map.of("alpha", 0.25), List.of(a, b), out)
                        .withLimits(4, MergeRequest.DEFAULT_MEMORY_BUDGET));
                try (SafetensorsReader r = SafetensorsReader.open(out)) {
                    for (String key : sizes.keySet()) {
                        float[] m = new float[sizes.get(key)];
                        r.read(key).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(m);
                        for (int i = 0; i < m.length; i++) {
                            float expected = va.get(key)[i] + 0.25f * (vb.get(key)[i] - va.get(key)[i]);
                            assertEquals(expected, m[i], 1e-6f, "run " + run + " " + key + "[" + i + "]");
                        }
                    }
                }
            }
        }
    }

    private static Map<String, float[]> write(Path file, Map<String, Integer> sizes, long seed) throws IOException {
        Random random = new Random(seed);
        List<TensorInfo> infos = new ArrayList<>();
        sizes.forEach((k, n) -> infos.add(new TensorInfo(k, DType.F32, n)));
        Map<String, float[]> values = new LinkedHashMap<>();
        try (SafetensorsWriter w = SafetensorsWriter.create(file, new WritePlan(infos, Map.of("format", "pt")))) {
            for (Map.Entry<String, Integer> e : sizes.entrySet()) {
                float[] v = new float[e.getValue()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) random.nextGaussian();
                }
                ByteBuffer bytes = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                bytes.asFloatBuffer().put(v);
                w.write(e.getKey(), bytes);
                values.put(e.getKey(), v);
            }
            w.commit();
        }
        return values;
    }
}
