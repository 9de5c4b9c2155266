package dev.easel.core.dist;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * A curated, pinned plugin set: which bundles a distribution ships, at which versions, with which bytes.
 * Modelled on Karaf features and the OSGi Feature Service, reduced to what Easel needs.
 *
 * @param id        the distribution's name and version ({@code dev.easel:easel-community:0.1.0})
 * @param engineApi the engine-api range the set was validated against
 * @param runtime   the compute runtime the set was validated against ({@code djl}, {@code pytorch}, {@code flavor})
 * @param aliases   short names users may type for an id ({@code lora} for {@code lora/kohya})
 * @param plugins   the pinned bundles
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = false)
public record Lockfile(String id, String engineApi, Map<String, String> runtime, Map<String, String> aliases,
                       List<Entry> plugins) {

    /**
     * One pinned bundle.
     *
     * @param groupId    Maven group
     * @param artifactId Maven artifact
     * @param version    Maven version
     * @param file       the file name under {@code plugins/}
     * @param sha256     hex digest of the jar
     * @param provides   the service ids it is expected to register, for the distribution's own check
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Entry(String groupId, String artifactId, String version, String file, String sha256,
                        List<String> provides) {
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Reads a lockfile. */
    public static Lockfile read(Path path) throws IOException {
        try {
            return JSON.readValue(path.toFile(), Lockfile.class);
        } catch (IOException e) {
            throw new IOException(path + ": not a valid distribution lockfile: " + e.getMessage(), e);
        }
    }

    /** Writes it atomically. */
    public void write(Path path) throws IOException {
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        JSON.writeValue(tmp.toFile(), this);
        Files.writeString(tmp, Files.readString(tmp) + System.lineSeparator());
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
