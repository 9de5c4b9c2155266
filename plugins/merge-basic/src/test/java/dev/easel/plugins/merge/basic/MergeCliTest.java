package dev.easel.plugins.merge.basic;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code easel merge} end to end on small fp16 safetensors files in the SD1 key layout, with the real plugins. */
class MergeCliTest {
    static ComputeRuntime runtime;

    @TempDir
    Path dir;
    Path a;
    Path b;
    Path c;
    Map<String, float[]> va;
    Map<String, float[]> vb;
    Map<String, float[]> vc;
    String stdout;
    String stderr;

    @BeforeAll
    static void start() {
        runtime = new ComputeRuntime().start();
    }

    @BeforeEach
    void fixtures() throws IOException {
        a = dir.resolve("a.safetensors");
        b = dir.resolve("b.safetensors");
        c = dir.resolve("c.safetensors");
        va = Sd1Fixtures.write(runtime, a, 1, 4);
        vb = Sd1Fixtures.write(runtime, b, 2, 4);
        vc = Sd1Fixtures.write(runtime, c, 3, 4);
    }

    private int easel(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of(args));
        int rc = EaselCli.run(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
        stdout = out.toString();
        stderr = err.toString();
        return rc;
    }

    private static float[] read(SafetensorsReader r, String key) throws IOException {
        TensorInfo info = r.info(key).orElseThrow();
        ByteBuffer bytes = r.read(key).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(int) info.elementCount()];
        for (int i = 0; i < out.length; i++) {
            if (info.dtype() == DType.F16) {
                out[i] = halfToFloat(bytes.getShort());
            } else {
                out[i] = bytes.getFloat();
            }
        }
        return out;
    }

    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0) {
            return (sign != 0 ? -1 : 1) * mant * 0x1p-24f;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    private static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            // one fp16 rounding of the float32 result: relative error below 2^-11
            assertEquals(expected[i], actual[i], Math.abs(expected[i]) * 1e-3 + 1e-6, "element " + i);
        }
    }

    private static float[] lerp(float[] x, float[] y, float t) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] + t * (y[i] - x[i]);
        }
        return out;
    }

    @Test
    void weightedSumWritesAnFp16ModelWithTheRecipe() throws Exception {
        Path out = dir.resolve("mix.safetensors");
        int rc = easel("merge", "--method", "weighted_sum", "--param", "alpha=0.25", "--out", out.toString(),
                a.toString(), b.toString());
        assertEquals(0, rc, stderr);
        assertTrue(stdout.contains("wrote"), stdout);
        assertTrue(stderr.contains("EMA"), stderr);
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            assertEquals(DType.F16, r.info(Sd1Fixtures.TE).orElseThrow().dtype());
            assertClose(lerp(va.get(Sd1Fixtures.TE), vb.get(Sd1Fixtures.TE), 0.25f), read(r, Sd1Fixtures.TE));
            assertClose(lerp(va.get(Sd1Fixtures.MID), vb.get(Sd1Fixtures.MID), 0.25f), read(r, Sd1Fixtures.MID));
            TensorInfo ids = r.info(Sd1Fixtures.POSITION_IDS).orElseThrow();
            assertEquals(DType.I64, ids.dtype());
            assertEquals(76L, r.read(Sd1Fixtures.POSITION_IDS).order(ByteOrder.LITTLE_ENDIAN).getLong(76 * 8));
            assertFalse(r.contains(Sd1Fixtures.EMA));
            var recipe = new ObjectMapper().readTree(r.metadata().get(MergePlanner.RECIPE_METADATA_KEY));
            assertEquals("weighted_sum", recipe.path("merges").get(0).path("method").asText());
            assertEquals("0.25", recipe.path("merges").get(0).path("params").path("alpha").asText());
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of("a.safetensors", "b.safetensors", "c.safetensors", "mix.safetensors"),
                    files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()));
        }
    }

    @Test
    void addDifferenceOfThreeModelsAndDtypeOverride() throws Exception {
        Path out = dir.resolve("ad.safetensors");
        int rc = easel("merge", "--method", "add_difference", "--param", "alpha=0.5", "--dtype", "fp32", "-q",
                "--keep-ema", "--out", out.toString(), a.toString(), b.toString(), c.toString());
        assertEquals(0, rc, stderr);
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            assertEquals(DType.F32, r.info(Sd1Fixtures.OUT05).orElseThrow().dtype());
            float[] x = va.get(Sd1Fixtures.OUT05);
            float[] y = vb.get(Sd1Fixtures.OUT05);
            float[] z = vc.get(Sd1Fixtures.OUT05);
            float[] expected = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                expected[i] = x[i] + 0.5f * (y[i] - z[i]);
            }
            assertArrayEquals(expected, read(r, Sd1Fixtures.OUT05), 1e-6f);
            assertTrue(r.contains(Sd1Fixtures.EMA));
        }
    }

    @Test
    void blockWeightsGiveAlphaPerBlock() throws Exception {
        List<String> w = new ArrayList<>(Collections.nCopies(26, "0"));
        w.set(0, "0.1");   // BASE: text encoder and VAE
        w.set(1, "0.2");   // IN00: conv_in and time_embed
        w.set(5, "0.4");   // IN04
        w.set(13, "0.6");  // M00
        w.set(19, "0.7");  // OUT05
        w.set(25, "0.9");  // OUT11: the final out layers
        Path out = dir.resolve("mbw.safetensors");
        int rc = easel("merge", "--method", "weighted_sum", "--block-weights", String.join(",", w), "-q",
                "--dtype", "fp32", "--out", out.toString(), a.toString(), b.toString());
        assertEquals(0, rc, stderr);
        Map<String, Float> expected = new LinkedHashMap<>();
        expected.put(Sd1Fixtures.TE, 0.1f);
        expected.put(Sd1Fixtures.VAE, 0.1f);
        expected.put(Sd1Fixtures.TIME, 0.2f);
        expected.put(Sd1Fixtures.CONV_IN, 0.2f);
        expected.put(Sd1Fixtures.IN04, 0.4f);
        expected.put(Sd1Fixtures.MID, 0.6f);
        expected.put(Sd1Fixtures.OUT05, 0.7f);
        expected.put(Sd1Fixtures.OUT, 0.9f);
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            for (Map.Entry<String, Float> e : expected.entrySet()) {
                assertArrayEquals(lerp(va.get(e.getKey()), vb.get(e.getKey()), e.getValue()), read(r, e.getKey()),
                        1e-6f, e.getKey());
            }
        }
    }

    @Test
    void inpaintingConvInKeepsItsExtraChannels() throws Exception {
        Path inpaint = dir.resolve("inpaint.safetensors");
        Map<String, float[]> vi = Sd1Fixtures.write(runtime, inpaint, 9, 9);
        Path out = dir.resolve("inpaint-mix.safetensors");
        assertEquals(0, easel("merge", "--method", "add_difference", "--param", "alpha=1", "-q", "--dtype", "fp32",
                "--out", out.toString(), inpaint.toString(), b.toString(), c.toString()), stderr);
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            assertArrayEquals(new long[] {8, 9, 3, 3}, r.info(Sd1Fixtures.CONV_IN).orElseThrow().shape());
            float[] got = read(r, Sd1Fixtures.CONV_IN);
            float[] i9 = vi.get(Sd1Fixtures.CONV_IN);
            float[] b4 = vb.get(Sd1Fixtures.CONV_IN);
            float[] c4 = vc.get(Sd1Fixtures.CONV_IN);
            for (int o = 0; o < 8; o++) {
                for (int ch = 0; ch < 9; ch++) {
                    for (int k = 0; k < 9; k++) {
                        int i = (o * 9 + ch) * 9 + k;
                        float expected = ch < 4 ? i9[i] + (b4[(o * 4 + ch) * 9 + k] - c4[(o * 4 + ch) * 9 + k])
                                : i9[i];
                        assertEquals(expected, got[i], 1e-6f, "out " + o + " channel " + ch);
                    }
                }
            }
        }
        assertEquals(1, easel("merge", "--method", "weighted_sum", "--out", dir.resolve("x.safetensors").toString(),
                b.toString(), inpaint.toString()));
        assertTrue(stderr.contains("must be the first input"), stderr);
    }

    @Test
    void recipeFeedsOneMergeIntoAnother() throws Exception {
        Path recipe = dir.resolve("recipe.json");
        Files.writeString(recipe, "{\"format\":\"easel-merge-recipe\",\"version\":1,"
                + "\"models\":{\"a\":\"a.safetensors\",\"b\":\"b.safetensors\",\"c\":\"c.safetensors\"},"
                + "\"merges\":[{\"name\":\"ab\",\"method\":\"weighted_sum\",\"inputs\":[\"a\",\"b\"],"
                + "\"params\":{\"alpha\":0.5}},"
                + "{\"name\":\"out\",\"method\":\"add_difference\",\"inputs\":[\"ab\",\"c\",\"a\"],"
                + "\"params\":{\"alpha\":1},\"block_weights\":{\"alpha\":{\"OUT11\":0}}}],"
                + "\"dtype\":\"fp32\"}");
        Path out = dir.resolve("recipe-out.safetensors");
        assertEquals(0, easel("merge", "--recipe", recipe.toString(), "--out", out.toString(), "-q"), stderr);
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            String k = Sd1Fixtures.IN04;
            float[] ab = lerp(va.get(k), vb.get(k), 0.5f);
            float[] expected = new float[ab.length];
            for (int i = 0; i < ab.length; i++) {
                expected[i] = ab[i] + (vc.get(k)[i] - va.get(k)[i]);
            }
            assertArrayEquals(expected, read(r, k), 1e-6f);
            assertArrayEquals(lerp(va.get(Sd1Fixtures.OUT), vb.get(Sd1Fixtures.OUT), 0.5f),
                    read(r, Sd1Fixtures.OUT), 1e-6f);
        }
    }

    @Test
    void badInputFailsBeforeAnyWorkWithExitOneAndNoOutput() throws Exception {
        Path out = dir.resolve("bad.safetensors");
        assertEquals(1, easel("merge", "--method", "weighted_sum", "--param", "alpha=1.5", "--out", out.toString(),
                a.toString(), b.toString()));
        assertTrue(stderr.startsWith("easel: ") && stderr.contains("alpha") && stderr.contains("range"), stderr);

        assertEquals(1, easel("merge", "--method", "weighted_sum", "--block-weights", "0.1,0.2,0.3", "--out",
                out.toString(), a.toString(), b.toString()));
        assertTrue(stderr.contains("have 3 values") && stderr.contains("26"), stderr);

        assertEquals(1, easel("merge", "--method", "weighted_sum", "--param", "alpah=0.3", "--out", out.toString(),
                a.toString(), b.toString()));
        assertTrue(stderr.contains("unknown parameter 'alpah'"), stderr);

        assertEquals(1, easel("merge", "--method", "no_such_method", "--out", out.toString(), a.toString(),
                b.toString()));
        assertTrue(stderr.contains("no_such_method"), stderr);

        assertEquals(1, easel("merge", "--method", "add_difference", "--out", out.toString(), a.toString(),
                b.toString()));
        assertTrue(stderr.contains("takes 3 models"), stderr);

        Path recipe = dir.resolve("r.json");
        Files.writeString(recipe, "{\"models\":{\"a\":\"a.safetensors\",\"b\":\"b.safetensors\"},\"merges\":["
                + "{\"method\":\"weighted_sum\",\"inputs\":[\"a\",\"b\"],\"block_weights\":{\"alpha\":{\"IN13\":1}}}]}");
        assertEquals(1, easel("merge", "--recipe", recipe.toString(), "--out", out.toString()));
        assertTrue(stderr.contains("unknown block 'IN13'"), stderr);

        Path xl = dir.resolve("xl.safetensors");
        Map<String, long[]> xlKeys = new LinkedHashMap<>();
        Sd1Fixtures.shapes(4).forEach((k, v) -> xlKeys.put(k.replace("cond_stage_model.", "conditioner.embedders.0."),
                v));
        xlKeys.put("model.diffusion_model.label_emb.0.0.weight", new long[] {4, 4});
        Sd1Fixtures.write(runtime, xl, 5, xlKeys);
        assertEquals(1, easel("merge", "--method", "weighted_sum", "--out", out.toString(), a.toString(),
                xl.toString()));
        assertTrue(stderr.contains("different architectures") && stderr.contains("xl.safetensors"), stderr);

        assertEquals(1, easel("merge", "--method", "weighted_sum", "--out", out.toString(), a.toString(),
                dir.resolve("missing.safetensors").toString()));
        assertTrue(stderr.contains("missing.safetensors"), stderr);

        assertFalse(Files.exists(out));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("bad") || n.startsWith(".bad") || n.contains("tmp"))
                    .collect(Collectors.toList()));
        }
        assertEquals(2, easel("merge", "--method", "weighted_sum", a.toString(), b.toString()));
    }

    @Test
    void listShowsMethodsWithTheirParameters() {
        assertEquals(0, easel("merge", "--list"));
        assertTrue(stdout.contains("weighted_sum/basic") && stdout.contains("add_difference/basic")
                && stdout.contains("slerp/basic") && stdout.contains("alpha"), stdout);
        assertTrue(stdout.contains("per block"), stdout);
    }
}
