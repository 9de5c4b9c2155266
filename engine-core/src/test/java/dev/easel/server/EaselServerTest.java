package dev.easel.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.cli.PluginRows;
import dev.easel.core.Easel;
import dev.easel.core.EaselOptions;
import dev.easel.core.osgi.TestBundles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EaselServerTest {
    @TempDir
    Path plugins;

    @Test
    void healthAndPluginsOverHttpOnLoopback() throws Exception {
        TestBundles.versionedMerge("srv.good", "2.0.0").writeTo(plugins.resolve("good.jar"));
        try (Easel easel = Easel.start(EaselOptions.embedded().withPluginsDir(plugins).watching(true));
             EaselServer server = new EaselServer(easel).start("127.0.0.1", 0)) {
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.port();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/api/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertEquals("ok", new ObjectMapper().readTree(health.body()).get("status").asText());

            HttpResponse<String> list = http.send(HttpRequest.newBuilder(URI.create(base + "/api/plugins")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, list.statusCode());
            JsonNode array = new ObjectMapper().readTree(list.body());
            assertEquals(new ObjectMapper().readTree(PluginRows.write(PluginRows.toJson(easel.registry().list()))),
                    array, "the same array as plugins list --json");
            assertTrue(list.body().contains("probe/versioned"), list.body());

            HttpResponse<String> one = http.send(HttpRequest.newBuilder(
                    URI.create(base + "/api/plugins/probe/versioned")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, one.statusCode(), one.body());
            assertEquals("2.0.0", new ObjectMapper().readTree(one.body()).get("version").asText());

            HttpResponse<String> none = http.send(HttpRequest.newBuilder(
                    URI.create(base + "/api/plugins/no/such")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, none.statusCode());
        }
    }
}
