package dev.easel.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.easel.core.Easel;
import dev.easel.core.EaselOptions;
import dev.easel.server.EaselServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST/GET/DELETE /api/jobs} on a running server, jobs one at a time. */
class JobApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void submitPollAndCancelJobs() throws Exception {
        Path data = TrainFixtures.images(tmp.resolve("data"), 4, 16, 16, "png", 9);
        try (Easel easel = Easel.start(EaselOptions.embedded());
             EaselServer server = new EaselServer(easel).start("127.0.0.1", 0)) {
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.port() + "/api/jobs";

            ObjectNode config = JSON.createObjectNode();
            Map<String, String> p = TrainFixtures.params(data, tmp.resolve("a"), tmp.resolve("cache"));
            p.forEach(config::put);
            config.put("method", "toy/test");
            config.put("max_train_steps", 8);
            HttpResponse<String> created = post(http, base, config.toString());
            assertEquals(201, created.statusCode(), created.body());
            String id = JSON.readTree(created.body()).get("id").asText();

            ObjectNode second = config.deepCopy();
            second.put("output_dir", tmp.resolve("b").toString());
            second.put("max_train_steps", 100000);
            String id2 = JSON.readTree(post(http, base, second.toString()).body()).get("id").asText();

            JsonNode first = poll(http, base + "/" + id, "succeeded");
            assertEquals(8, first.get("step").asLong());
            assertTrue(first.get("loss").isNumber(), first.toString());
            assertTrue(first.get("outputs").toString().contains("toy.safetensors"), first.toString());

            poll(http, base + "/" + id2, "running");
            HttpResponse<String> cancel = http.send(HttpRequest.newBuilder(URI.create(base + "/" + id2)).DELETE()
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, cancel.statusCode());
            JsonNode cancelled = poll(http, base + "/" + id2, "cancelled");
            assertTrue(cancelled.get("step").asLong() < 100000);
            assertTrue(Files.exists(tmp.resolve("b/toy.safetensors")), "a cancelled job saves its result");

            ObjectNode bad = config.deepCopy();
            bad.put("learning_rat", 0.1);
            HttpResponse<String> refused = post(http, base, bad.toString());
            assertEquals(400, refused.statusCode());
            assertTrue(refused.body().contains("request: unknown key 'learning_rat' (did you mean 'learning_rate'?)"),
                    refused.body());

            HttpResponse<String> missing = http.send(HttpRequest.newBuilder(URI.create(base + "/nope")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(404, missing.statusCode());
        }
    }

    private static HttpResponse<String> post(HttpClient http, String url, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode poll(HttpClient http, String url, String state) throws Exception {
        long end = System.currentTimeMillis() + 30_000;
        JsonNode last = null;
        while (System.currentTimeMillis() < end) {
            last = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            if (last.get("state").asText().equals(state) && (!state.equals("running") || last.get("step")
                    .asLong() > 0)) {
                return last;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("job never reached " + state + ": " + last);
    }
}
