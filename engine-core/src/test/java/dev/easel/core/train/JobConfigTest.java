package dev.easel.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.train.config.ConfigException;
import dev.easel.core.train.config.JobConfig;
import dev.easel.core.train.config.JobConfigLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {
    @TempDir
    Path tmp;

    private final PluginRegistry registry = TrainFixtures.registry();
    private final JobConfigLoader loader = TrainFixtures.loader(registry);

    private Path file(String name, String text) throws IOException {
        Path f = tmp.resolve(name);
        Files.writeString(f, text.replace("DATA", tmp.toString()));
        return f;
    }

    private ConfigException fails(Path f, Map<String, String> params) {
        return assertThrows(ConfigException.class, () -> loader.load(f, "toy/test", params));
    }

    @Test
    void kohyaSectionsAreFlattenedAndKeysRouted() throws IOException {
        Path f = file("k.toml", """
                [model_arguments]
                pretrained_model_name_or_path = "toy:1"
                [additional_network_arguments]
                network_dim = 3
                network_args = ["conv_dim=4", "conv_alpha=1"]
                [training_arguments]
                train_data_dir = "DATA"
                learning_rate = "0.005:100, 1e-3:1000, 1e-5"
                max_train_steps = 50
                xformers = true
                mixed_precision = "fp16"
                caption_extention = ".txt"
                """);
        JobConfig job = loader.load(f, "toy/test", Map.of("seed", "9"));
        assertEquals("toy/test", job.methodId());
        assertEquals(3, job.method().getInt("network_dim"));
        assertEquals("conv_dim=4 conv_alpha=1", job.method().getString("network_args"));
        assertEquals(0.005, job.method().getDouble("learning_rate"), "the method sees the schedule's first rate");
        assertEquals("0.005:100, 1e-3:1000, 1e-5", job.engine().getString("learning_rate"));
        assertEquals(50, job.engine().getLong("max_train_steps"));
        assertEquals(9, job.engine().getLong("seed"), "--param overrides");
        assertTrue(job.warnings().stream().anyMatch(w -> w.startsWith(f + ": kohya key 'xformers' has no effect")),
                job.warnings().toString());
        assertTrue(job.warnings().stream().anyMatch(w -> w.contains("mixed_precision = fp16")));
        assertEquals(".txt", job.engine().getString("caption_extension"), "kohya's old spelling still works");
    }

    @Test
    void jsonConfigsWork() throws IOException {
        Path f = file("j.json", "{\"pretrained_model_name_or_path\": \"toy:1\", \"train_data_dir\": \"DATA\","
                + " \"train_batch_size\": 4, \"method\": \"toy/test\"}");
        JobConfig job = loader.load(f, null, Map.of());
        assertEquals(4, job.engine().getLong("train_batch_size"));
    }

    @Test
    void errorsNameTheKeyAndTheFile() throws IOException {
        Path typo = file("typo.toml", "pretrained_model_name_or_path = \"toy:1\"\ntrain_data_dir = \"DATA\"\n"
                + "max_train_step = 5\n");
        ConfigException e = fails(typo, Map.of());
        assertEquals(typo + ": unknown key 'max_train_step' (did you mean 'max_train_steps'?)", e.getMessage());
        assertEquals("max_train_step", e.key());

        Path twice = file("twice.toml", "[a]\nseed = 1\n[b]\nseed = 2\n");
        assertTrue(fails(twice, Map.of()).getMessage().contains("key 'seed' is set twice (in [a] and in [b])"));

        Path network = file("net.toml", "pretrained_model_name_or_path = \"toy:1\"\ntrain_data_dir = \"DATA\"\n"
                + "unet_lr = 1e-4\n");
        assertTrue(fails(network, Map.of()).getMessage().contains(
                "key 'unet_lr' is not a parameter of method 'toy/test'"));

        Path badValue = file("bad.toml", "pretrained_model_name_or_path = \"toy:1\"\ntrain_data_dir = \"DATA\"\n"
                + "lr_scheduler = \"cosin\"\n");
        assertTrue(fails(badValue, Map.of()).getMessage().startsWith(badValue + ": parameter 'lr_scheduler' must be"
                + " one of"));

        Path badLr = file("lr.toml", "pretrained_model_name_or_path = \"toy:1\"\ntrain_data_dir = \"DATA\"\n"
                + "learning_rate = \"0.1:20, 0.2:10\"\n");
        assertTrue(fails(badLr, Map.of()).getMessage().startsWith(badLr + ": 'learning_rate' must have increasing"));

        Path badOptimizer = file("opt.toml", "pretrained_model_name_or_path = \"toy:1\"\ntrain_data_dir = \"DATA\"\n"
                + "optimizer_type = \"Lion\"\noptimizer_args = [\"eps=1e-8\"]\n");
        ConfigException opt = fails(badOptimizer, Map.of());
        assertEquals("optimizer_args", opt.key());
        assertTrue(opt.getMessage().startsWith(badOptimizer + ": optimizer_args [eps] are not options of Lion"),
                opt.getMessage());

        Path adaptive = file("adaptive.toml", "pretrained_model_name_or_path = \"toy:1\"\ntrain_data_dir = \"DATA\"\n"
                + "adaptive_noise_scale = 0.01\n");
        assertTrue(fails(adaptive, Map.of()).getMessage().endsWith("'adaptive_noise_scale' needs 'noise_offset'"));

        Path noModel = file("nomodel.toml", "train_data_dir = \"DATA\"\n");
        assertTrue(fails(noModel, Map.of()).getMessage().contains("'pretrained_model_name_or_path' is required"));

        Path noData = file("nodata.toml", "pretrained_model_name_or_path = \"toy:1\"\n");
        assertTrue(fails(noData, Map.of()).getMessage().contains("no images: set 'train_data_dir'"));

        Path broken = file("broken.toml", "seed = = 1\n");
        assertTrue(fails(broken, Map.of()).getMessage().startsWith(broken + ": not valid TOML"));

        assertTrue(fails(tmp.resolve("missing.toml"), Map.of()).getMessage().endsWith("missing.toml: no such file"));

        Map<String, String> p = new LinkedHashMap<>();
        p.put("pretrained_model_name_or_path", "toy:1");
        p.put("train_data_dir", tmp.toString());
        p.put("network_module", "networks.nope");
        ConfigException module = assertThrows(ConfigException.class, () -> loader.load(null, null, p));
        assertTrue(module.getMessage().startsWith("--param: network_module 'networks.nope' is not known"),
                module.getMessage());
        p.put("network_module", "networks.lora");
        ConfigException notInstalled = assertThrows(ConfigException.class, () -> loader.load(null, null, p));
        assertTrue(notInstalled.getMessage().contains("lora/kohya"), notInstalled.getMessage());
    }
}
