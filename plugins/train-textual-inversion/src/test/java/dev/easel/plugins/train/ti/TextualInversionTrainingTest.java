package dev.easel.plugins.train.ti;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.core.format.pytorch.PyNone;
import dev.easel.core.format.pytorch.TorchCheckpointReader;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.sd.embedding.EmbeddingFile;
import dev.easel.core.sd.embedding.EmbeddingLayout;
import dev.easel.core.train.loop.StepReport;
import dev.easel.core.train.loop.TrainingListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A textual-inversion job on the random tiny model: what trains, what stays, and the three files it writes. */
class TextualInversionTrainingTest {
    @TempDir
    Path dir;

    @Test
    void onlyTheWordsRowsTrainAndAllThreeFilesHoldThem() throws IOException {
        Path model = TiJobs.tinyModel(dir);
        Path data = TiJobs.images(dir.resolve("img"), 4, "thing");
        Path out = dir.resolve("out");
        Map<String, String> p = TiJobs.params(model, data, out);
        p.put("use_object_template", "true");
        TiJobs.Probe probe = new TiJobs.Probe();
        TiJobs.train(p, probe);

        assertEquals(probe.atLoad.keySet(), probe.atEnd.keySet());
        for (String name : probe.atLoad.keySet()) {
            assertArrayEquals(probe.atLoad.get(name), probe.atEnd.get(name), name + " changed");
        }
        assertTrue(probe.atLoad.containsKey("cond_stage_model.transformer.text_model.embeddings.token_embedding"),
                "the embedding table is among the compared weights: " + probe.atLoad.keySet());
        assertEquals(2 * 32, probe.finalRows.length);
        assertFalse(java.util.Arrays.equals(probe.initRows, probe.finalRows), "the word's vectors trained");
        double moved = 0;
        for (int i = 0; i < probe.initRows.length; i++) {
            moved = Math.max(moved, Math.abs(probe.initRows[i] - probe.finalRows[i]));
        }
        // Adam moves each element by about the learning rate per step
        assertTrue(moved > 0.01 && moved < 0.2, "vectors moved by " + moved);

        // output_name defaults to token_string, as kohya's script names it
        List<String> files = new ArrayList<>();
        try (var s = Files.list(out)) {
            s.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("zxq.")).sorted().forEach(files::add);
        }
        assertTrue(files.containsAll(List.of("zxq.learned_embeds.safetensors", "zxq.pt", "zxq.safetensors")),
                files.toString());
        EmbeddingFile pt = EmbeddingFile.read(out.resolve("zxq.pt"));
        EmbeddingFile kohya = EmbeddingFile.read(out.resolve("zxq.safetensors"));
        EmbeddingFile diffusers = EmbeddingFile.read(out.resolve("zxq.learned_embeds.safetensors"));
        assertEquals(EmbeddingLayout.A1111, pt.layout());
        assertEquals(List.of("zxq"), pt.words());
        assertEquals(EmbeddingLayout.KOHYA, kohya.layout());
        assertEquals(List.of("zxq"), kohya.words());
        assertEquals(EmbeddingLayout.DIFFUSERS, diffusers.layout());
        assertEquals("zxq", diffusers.name());
        for (EmbeddingFile e : List.of(pt, kohya, diffusers)) {
            assertEquals(2, e.rows());
            assertEquals(32, e.width());
            assertArrayEquals(probe.finalRows, e.vectors(), e.describe());
        }
    }

    @Test
    void weightsStartTheVectorsFromAnEarlierEmbedding() throws IOException {
        Path model = TiJobs.tinyModel(dir);
        Path data = TiJobs.images(dir.resolve("img"), 2, "zxq");
        Map<String, String> p = TiJobs.params(model, data, dir.resolve("out"));
        p.put("max_train_steps", "2");
        p.put("save_model_as", "pt");
        p.put("output_name", "first");
        TiJobs.train(p, new TiJobs.Probe());
        p.put("weights", dir.resolve("out/first.pt").toString());
        p.put("learning_rate", "0");
        p.put("max_train_steps", "1");
        p.put("output_name", "second");
        TiJobs.Probe probe = new TiJobs.Probe();
        TiJobs.train(p, probe);
        float[] first = EmbeddingFile.read(dir.resolve("out/first.pt")).vectors();
        assertFalse(java.util.Arrays.equals(first, probe.initRows), "the first job trained away from init_word");
        assertArrayEquals(first, EmbeddingFile.read(dir.resolve("out/second.pt")).vectors(), "started from first.pt");
        p.put("num_vectors_per_token", "3");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TiJobs.train(p,
                new TiJobs.Probe()));
        assertTrue(e.getMessage().contains("first.pt holds vectors (2, 32)"), e.getMessage());
    }

    @Test
    void aKilledAndResumedJobEndsWithTheVectorsOfAnUninterruptedOne() throws IOException {
        Path model = TiJobs.tinyModel(dir);
        Path data = TiJobs.images(dir.resolve("img"), 4, "thing");
        Map<String, String> p = TiJobs.params(model, data, dir.resolve("whole"));
        p.put("template_file", "object_filewords");
        p.put("save_model_as", "safetensors");
        p.put("save_state", "true");
        p.put("save_every_n_steps", "2");
        TiJobs.train(p, new TiJobs.Probe());

        p.put("output_dir", dir.resolve("killed").toString());
        AtomicLong steps = new AtomicLong();
        TrainingListener counter = new TrainingListener() {
            @Override
            public void step(StepReport r) {
                steps.set(r.step());
            }
        };
        assertThrows(IllegalStateException.class, () -> TiJobs.train(p, new TiJobs.Probe(), counter, () -> {
            if (steps.get() >= 3) {
                throw new IllegalStateException("killed");
            }
            return false;
        }));
        p.put("resume", "latest");
        TiJobs.train(p, new TiJobs.Probe());
        try (SafetensorsReader a = SafetensorsReader.open(dir.resolve("whole/zxq.safetensors"));
             SafetensorsReader b = SafetensorsReader.open(dir.resolve("killed/zxq.safetensors"))) {
            assertEquals(a.read("emb_params"), b.read("emb_params"), "template choices and vectors resume exactly");
        }
    }

    @Test
    void theA1111FileIsTheDictA1111SavesUsingOnlyGlobalsItsSafeLoaderAllows() throws IOException {
        Path model = TiJobs.tinyModel(dir);
        Path data = TiJobs.images(dir.resolve("img"), 2, "zxq");
        Path out = dir.resolve("out");
        Map<String, String> p = TiJobs.params(model, data, out);
        p.put("max_train_steps", "3");
        p.put("save_model_as", "pt");
        p.put("output_name", "my-zxq");
        TiJobs.train(p, new TiJobs.Probe());
        assertFalse(Files.exists(out.resolve("my-zxq.safetensors")), "save_model_as = pt writes only the .pt");
        Path pt = out.resolve("my-zxq.pt");

        try (TorchCheckpointReader r = TorchCheckpointReader.open(pt)) {
            Map<?, ?> root = (Map<?, ?>) r.root();
            assertEquals(List.of("string_to_token", "string_to_param", "name", "step", "sd_checkpoint",
                    "sd_checkpoint_name"), new ArrayList<>(root.keySet()), "A1111's key order");
            assertEquals(Map.of("*", 265L), normalise(root.get("string_to_token")));
            assertEquals("my-zxq", root.get("name"));
            assertEquals(3L, ((Number) root.get("step")).longValue());
            assertEquals(PyNone.NONE, root.get("sd_checkpoint"));
            assertEquals("tiny", root.get("sd_checkpoint_name"));
            assertEquals(List.of(new TensorInfo("string_to_param.*", DType.F32, 2, 32)), r.tensors());
        }
        List<String> entries = new ArrayList<>();
        String pickle;
        try (ZipFile zip = new ZipFile(pt.toFile())) {
            zip.stream().map(ZipEntry::getName).forEach(entries::add);
            pickle = new String(zip.getInputStream(zip.getEntry("my-zxq/data.pkl")).readAllBytes(),
                    StandardCharsets.ISO_8859_1);
        }
        // the names A1111's safe loader admits: <folder>/(data.pkl|version|data/N)
        assertEquals(List.of("my-zxq/data.pkl", "my-zxq/data/0", "my-zxq/version"), entries);
        Set<String> globals = new TreeSet<>();
        Matcher m = Pattern.compile("c([A-Za-z_.]+)\n([A-Za-z_0-9]+)\n").matcher(pickle);
        while (m.find()) {
            globals.add(m.group(1) + "." + m.group(2));
        }
        assertEquals(new TreeSet<>(List.of("collections.OrderedDict", "torch.FloatStorage",
                "torch._utils._rebuild_tensor_v2")), globals, "globals of A1111's and torch's weights-only lists");
    }

    private static Map<String, Long> normalise(Object map) {
        java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
        ((Map<?, ?>) map).forEach((k, v) -> out.put(k.toString(), ((Number) v).longValue()));
        return out;
    }

    @Test
    void safetensorsCarryKohyaAndDiffusersMetadataAndTheChosenPrecision() throws IOException {
        Path model = TiJobs.tinyModel(dir);
        Path data = TiJobs.images(dir.resolve("img"), 2, "zxq");
        Path out = dir.resolve("out");
        Map<String, String> p = TiJobs.params(model, data, out);
        p.put("max_train_steps", "2");
        p.put("save_precision", "fp16");
        p.put("num_vectors_per_token", "3");
        TiJobs.train(p, new TiJobs.Probe());
        try (SafetensorsReader kohya = SafetensorsReader.open(out.resolve("zxq.safetensors"));
             SafetensorsReader diffusers = SafetensorsReader.open(out.resolve("zxq.learned_embeds.safetensors"))) {
            assertEquals(List.of(new TensorInfo("emb_params", DType.F16, 3, 32)), kohya.tensors());
            assertEquals("stable-diffusion-v1/textual-inversion", kohya.metadata().get("modelspec.architecture"));
            assertEquals("zxq", kohya.metadata().get("modelspec.title"));
            assertEquals("2", kohya.metadata().get("easel_steps"));
            assertEquals(List.of(new TensorInfo("zxq", DType.F16, 3, 32)), diffusers.tensors());
            assertEquals("pt", diffusers.metadata().get("format"));
        }
        try (TorchCheckpointReader r = TorchCheckpointReader.open(out.resolve("zxq.pt"))) {
            assertEquals(List.of(new TensorInfo("string_to_param.*", DType.F16, 3, 32)), r.tensors());
        }
    }
}
