package dev.easel.plugins.merge.taskvectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.cli.EaselCli;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.merge.MergePlanner;
import dev.easel.core.runtime.ComputeRuntime;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code easel merge} with the task-vector methods, end to end on small fp16 SD1-layout safetensors files. */
class TaskVectorsCliTest {
    static ComputeRuntime runtime;

    @TempDir
    Path dir;
    Path base;
    Path a;
    Path b;
    Map<String, float[]> vBase;
    Map<String, float[]> va;
    Map<String, float[]> vb;
    String stdout;
    String stderr;

    @BeforeAll
    static void start() {
        runtime = new ComputeRuntime().start();
    }

    @AfterAll
    static void stop() {
        runtime.close();
    }

    @BeforeEach
    void fixtures() throws IOException {
        base = dir.resolve("base.safetensors");
        a = dir.resolve("a.safetensors");
        b = dir.resolve("b.safetensors");
        vBase = Sd1Fixtures.write(runtime, base, 11, 4);
        va = Sd1Fixtures.write(runtime, a, 12, 4);
        vb = Sd1Fixtures.write(runtime, b, 13, 4);
    }

    private int easel(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = EaselCli.run(new PrintWriter(out), new PrintWriter(err), args);
        stdout = out.toString();
        stderr = err.toString();
        return rc;
    }

    private static float[] readF32(SafetensorsReader r, String key) throws IOException {
        TensorInfo info = r.info(key).orElseThrow();
        assertEquals(DType.F32, info.dtype());
        ByteBuffer bytes = r.read(key).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(int) info.elementCount()];
        bytes.asFloatBuffer().get(out);
        return out;
    }

    /** TIES without trimming, written out independently: elect the sign of the sum, average the agreeing deltas. */
    private static float[] tiesNoTrim(float[] base, float[] x, float[] y, double alpha) {
        float[] out = new float[base.length];
        for (int i = 0; i < base.length; i++) {
            float dx = x[i] - base[i];
            float dy = y[i] - base[i];
            float sign = dx + dy >= 0 ? 1 : -1;
            float sum = 0;
            int count = 0;
            if (dx != 0 && Math.signum(dx) == sign) {
                sum += dx;
                count++;
            }
            if (dy != 0 && Math.signum(dy) == sign) {
                sum += dy;
                count++;
            }
            out[i] = (float) (base[i] + alpha * (count == 0 ? 0 : sum / count));
        }
        return out;
    }

    @Test
    void tiesWithBlockWeightsWritesTheExpectedTensorsAndRecipe() throws Exception {
        List<String> w = new ArrayList<>(Collections.nCopies(26, "1"));
        w.set(0, "0");     // BASE: text encoder and VAE stay the base model's
        w.set(13, "0.5");  // M00
        Path out = dir.resolve("ties.safetensors");
        int rc = easel("merge", "--method", "ties", "--param", "k=1", "--block-weights", String.join(",", w),
                "--dtype", "fp32", "-q", "--out", out.toString(), base.toString(), a.toString(), b.toString());
        assertEquals(0, rc, stderr);
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            assertArrayEquals(vBase.get(Sd1Fixtures.TE), readF32(r, Sd1Fixtures.TE), 1e-6f);
            for (String k : List.of(Sd1Fixtures.IN04, Sd1Fixtures.OUT05, Sd1Fixtures.CONV_IN)) {
                assertArrayEquals(tiesNoTrim(vBase.get(k), va.get(k), vb.get(k), 1.0), readF32(r, k), 1e-6f, k);
            }
            assertArrayEquals(tiesNoTrim(vBase.get(Sd1Fixtures.MID), va.get(Sd1Fixtures.MID),
                    vb.get(Sd1Fixtures.MID), 0.5), readF32(r, Sd1Fixtures.MID), 1e-6f);
            assertEquals(DType.I64, r.info(Sd1Fixtures.POSITION_IDS).orElseThrow().dtype());
            var recipe = new ObjectMapper().readTree(r.metadata().get(MergePlanner.RECIPE_METADATA_KEY));
            assertEquals("ties", recipe.path("merges").get(0).path("method").asText());
            assertEquals(26, recipe.path("merges").get(0).path("block_weights").path("alpha").size());
        }
    }

    @Test
    void tiesTrimsEachDeltaToDensityK() throws Exception {
        Path out = dir.resolve("ties-k.safetensors");
        assertEquals(0, easel("merge", "--method", "ties", "--param", "k=0.25", "--dtype", "fp32", "-q", "--out",
                out.toString(), base.toString(), a.toString()), stderr);
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            float[] got = readF32(r, Sd1Fixtures.CONV_IN);
            float[] b0 = vBase.get(Sd1Fixtures.CONV_IN);
            int changed = 0;
            for (int i = 0; i < got.length; i++) {
                if (got[i] != b0[i]) {
                    changed++;
                    assertEquals(va.get(Sd1Fixtures.CONV_IN)[i], got[i], 1e-6f, "a kept entry is A's");
                }
            }
            assertEquals(got.length / 4, changed, "one model: exactly floor(k n) entries move to A");
        }
    }

    @Test
    void dareIsReproducibleWithTheSameSeed() throws Exception {
        Path one = dir.resolve("dare1.safetensors");
        Path two = dir.resolve("dare2.safetensors");
        Path other = dir.resolve("dare3.safetensors");
        for (Path p : List.of(one, two)) {
            assertEquals(0, easel("merge", "--method", "dare", "--param", "probability=0.5", "--seed", "7", "-q",
                    "--threads", p == one ? "1" : "2", "--out", p.toString(), base.toString(), a.toString(),
                    b.toString()), stderr);
        }
        assertEquals(0, easel("merge", "--method", "dare_ties", "--param", "probability=0.5", "--seed", "8", "-q",
                "--out", other.toString(), base.toString(), a.toString(), b.toString()), stderr);
        assertArrayEquals(Files.readAllBytes(one), Files.readAllBytes(two));
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(one), Files.readAllBytes(other)));
    }

    @Test
    void trainDifferenceModelStockAndMedianRun() throws Exception {
        for (String method : List.of("train_difference", "model_stock", "geometric_median", "task_arithmetic")) {
            Path out = dir.resolve(method + ".safetensors");
            assertEquals(0, easel("merge", "--method", method, "-q", "--out", out.toString(), base.toString(),
                    a.toString(), b.toString()), method + ": " + stderr);
            try (SafetensorsReader r = SafetensorsReader.open(out)) {
                assertEquals(DType.F16, r.info(Sd1Fixtures.IN04).orElseThrow().dtype(), "the first model's dtype");
            }
        }
    }

    @Test
    void aKeyMissingFromOneModelIsTakenFromTheFirstWithAWarning() throws Exception {
        Path partial = dir.resolve("partial.safetensors");
        java.util.Map<String, long[]> shapes = new java.util.LinkedHashMap<>(Sd1Fixtures.shapes(4));
        shapes.remove(Sd1Fixtures.OUT05);
        Sd1Fixtures.write(runtime, partial, 14, shapes);
        Path out = dir.resolve("partial-out.safetensors");
        assertEquals(0, easel("merge", "--method", "task_arithmetic", "--dtype", "fp32", "-q", "--out", out.toString(),
                base.toString(), a.toString(), partial.toString()), stderr);
        assertTrue(stderr.contains("warning") && stderr.contains("missing") && stderr.contains("partial.safetensors"),
                stderr);
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            assertArrayEquals(vBase.get(Sd1Fixtures.OUT05), readF32(r, Sd1Fixtures.OUT05), 1e-6f,
                    "taken from the first input (the base) unchanged");
        }
    }

    @Test
    void badParametersFailBeforeAnyWork() {
        Path out = dir.resolve("bad.safetensors");
        assertEquals(1, easel("merge", "--method", "task_arithmetic", "--param", "weights=1,2,3", "--out",
                out.toString(), base.toString(), a.toString(), b.toString()));
        assertTrue(stderr.startsWith("easel: ") && stderr.contains("weights") && stderr.contains("2 model(s)"),
                stderr);
        assertEquals(1, easel("merge", "--method", "ties", "--param", "k=1.5", "--out", out.toString(),
                base.toString(), a.toString(), b.toString()));
        assertTrue(stderr.contains("'k'") && stderr.contains("range"), stderr);
        assertEquals(1, easel("merge", "--method", "model_stock", "--out", out.toString(), base.toString(),
                a.toString()));
        assertTrue(stderr.contains("at least 3 models"), stderr);
        assertFalse(Files.exists(out));
    }

    @Test
    void listShowsTheTaskVectorMethods() {
        assertEquals(0, easel("merge", "--list"));
        for (String id : List.of("task_arithmetic/task-vectors", "ties/task-vectors", "dare/task-vectors",
                "dare_ties/task-vectors", "train_difference/task-vectors", "model_stock/task-vectors",
                "geometric_median/task-vectors")) {
            assertTrue(stdout.contains(id), id + " in " + stdout);
        }
        assertTrue(stdout.contains("BASE A ..."), stdout);
    }
}
