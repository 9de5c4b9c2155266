package dev.easel.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The assembled tree, started as a user starts it. */
class DistributionIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void treeHasTheLauncherTheRuntimeAndThePinnedPlugins() throws IOException {
        assertTrue(Files.isExecutable(EaselProcess.DIST.resolve("bin/easel")));
        try (Stream<Path> lib = Files.list(EaselProcess.DIST.resolve("lib"))) {
            String names = lib.map(p -> p.getFileName().toString()).sorted().reduce("", (a, b) -> a + " " + b);
            assertTrue(names.contains("engine-core-") && names.contains("pytorch-native-cpu-2.7.1-linux-x86_64.jar")
                    && names.contains("org.apache.felix.framework-"), names);
            assertTrue(!names.contains("merge-basic"), "plugins are bundles, not class-path jars: " + names);
        }
        assertTrue(Files.exists(EaselProcess.DIST.resolve("plugins/merge-basic-1.1.0.jar")));
        JsonNode lock = JSON.readTree(EaselProcess.DIST.resolve("conf/distribution.lock.json").toFile());
        assertEquals(64, lock.get("plugins").get(0).get("sha256").asText().length());
    }

    @Test
    void pluginsListJsonShowsEveryPinnedServiceActive() throws Exception {
        EaselProcess.Result r = EaselProcess.run("plugins", "list", "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode array = JSON.readTree(r.out());
        JsonNode lock = JSON.readTree(EaselProcess.DIST.resolve("conf/distribution.lock.json").toFile());
        Map<String, String> states = new HashMap<>();
        array.forEach(n -> states.put(n.get("id").asText(), n.get("state").asText()));
        for (JsonNode entry : lock.get("plugins")) {
            for (JsonNode id : entry.get("provides")) {
                assertEquals("active", states.get(id.asText()), id + " in " + r.out());
            }
        }
    }

    @Test
    void aTamperedPinnedBundleIsRefusedAndADropInLoadsBesideIt() throws Exception {
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path pinned = plugins.resolve("merge-basic-1.1.0.jar");
        Files.copy(EaselProcess.DIST.resolve("plugins/merge-basic-1.1.0.jar"), pinned);
        Files.write(pinned, new byte[] {0}, java.nio.file.StandardOpenOption.APPEND);
        copyThirdParty(plugins);

        EaselProcess.Result r = EaselProcess.run("plugins", "list", "--json", "--plugins", plugins.toString());
        assertEquals(0, r.status(), r.err());
        JsonNode array = JSON.readTree(r.out());
        Map<String, JsonNode> byBundle = new HashMap<>();
        array.forEach(n -> byBundle.put(n.get("bundle").asText(), n));
        JsonNode tampered = byBundle.get("dev.easel.plugin.merge-basic");
        assertEquals("refused", tampered.get("state").asText(), r.out());
        assertTrue(tampered.get("reason").asText().contains("differs from the pin"), tampered.toString());
        JsonNode dropIn = byBundle.get("dev.easel.plugin.example-average");
        assertEquals("active", dropIn.get("state").asText(), r.out());
        assertEquals("average/example", dropIn.get("id").asText());
    }

    @Test
    void serveAnswersOnLoopbackAndHotLoadsADroppedBundle() throws Exception {
        Path plugins = Files.createDirectories(tmp.resolve("served"));
        Files.copy(EaselProcess.DIST.resolve("plugins/merge-basic-1.1.0.jar"), plugins.resolve("merge-basic-1.1.0.jar"));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path log = tmp.resolve("serve.log");
        Process server = EaselProcess.builder("serve", "--port", Integer.toString(port), "--plugins",
                plugins.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + port;
            JsonNode health = awaitJson(http, base + "/api/health", 60_000, log);
            assertEquals("ok", health.get("status").asText());
            assertTrue(get(http, base + "/api/plugins").contains("weighted_sum/basic"));

            copyThirdParty(plugins);
            long start = System.currentTimeMillis();
            while (!get(http, base + "/api/plugins").contains("average/example")) {
                assertTrue(System.currentTimeMillis() - start < 5_000, "dropped bundle not served within 5 s");
                Thread.sleep(100);
            }
            try (Stream<Path> jars = Files.list(plugins)) {
                jars.filter(p -> p.getFileName().toString().startsWith("example-average")).forEach(p -> p.toFile()
                        .delete());
            }
            start = System.currentTimeMillis();
            while (get(http, base + "/api/plugins").contains("average/example")) {
                assertTrue(System.currentTimeMillis() - start < 5_000, "removed bundle still served after 5 s");
                Thread.sleep(100);
            }
        } finally {
            server.destroy();
            server.waitFor();
        }
    }

    @Test
    void helpAndUsageErrors() throws Exception {
        EaselProcess.Result help = EaselProcess.run("--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("plugins") && help.out().contains("serve") && help.out().contains("quickstart"));
        EaselProcess.Result bad = EaselProcess.run("plugins", "list", "--bogus");
        assertEquals(2, bad.status());
    }

    private static void copyThirdParty(Path plugins) throws IOException {
        try (Stream<Path> jars = Files.list(EaselProcess.THIRD_PARTY)) {
            for (Path jar : (Iterable<Path>) jars::iterator) {
                Path tmp = plugins.resolve(jar.getFileName() + ".part");
                Files.copy(jar, tmp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, plugins.resolve(jar.getFileName()), StandardCopyOption.ATOMIC_MOVE);
            }
        }
    }

    private static String get(HttpClient http, String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static JsonNode awaitJson(HttpClient http, String url, long timeoutMs, Path log) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        while (true) {
            try {
                return JSON.readTree(get(http, url));
            } catch (IOException notYet) {
                if (System.currentTimeMillis() > end) {
                    throw new AssertionError("server did not answer in time; log:\n" + Files.readString(log));
                }
                Thread.sleep(200);
            }
        }
    }
}
