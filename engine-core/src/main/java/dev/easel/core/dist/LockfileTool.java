package dev.easel.core.dist;

import dev.easel.core.osgi.BundleFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The build-time side of a lockfile, run by the distribution module after it has laid out {@code plugins/}:
 * {@code verify} fails the build when the assembled bundles differ from their pins (a plugin changed without its
 * pin being reviewed, or a pinned bundle is missing, or an unpinned one slipped in); {@code update} rewrites the
 * pins from the assembled bundles, reading each jar's Maven coordinates from its {@code pom.properties}.
 *
 * <p>Usage: {@code LockfileTool verify|update PLUGINS_DIR LOCKFILE [COPY_TO]}.
 */
public final class LockfileTool {
    private LockfileTool() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3 || !(args[0].equals("verify") || args[0].equals("update"))) {
            System.err.println("usage: LockfileTool verify|update PLUGINS_DIR LOCKFILE [COPY_TO]");
            System.exit(2);
        }
        Path plugins = Path.of(args[1]);
        Path lockfile = Path.of(args[2]);
        List<String> problems = args[0].equals("verify") ? verify(plugins, lockfile) : update(plugins, lockfile);
        if (!problems.isEmpty()) {
            System.err.println("easel: the plugin set in " + plugins + " does not match " + lockfile + ":");
            problems.forEach(p -> System.err.println("  - " + p));
            System.err.println("Review the change, then re-pin with: mvn -pl distribution -am package -DskipTests"
                    + " -Deasel.lock=update");
            System.exit(1);
        }
        if (args.length > 3) {
            Path copy = Path.of(args[3]);
            Files.createDirectories(copy.getParent());
            Files.copy(lockfile, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        System.out.println("easel: " + args[0] + " " + lockfile.getFileName() + ": ok");
    }

    /** Differences between the jars of a folder and a lockfile; empty when they match. */
    public static List<String> verify(Path plugins, Path lockfile) throws IOException {
        Lockfile lock = Lockfile.read(lockfile);
        Map<String, Path> jars = jars(plugins);
        List<String> problems = new ArrayList<>();
        for (Lockfile.Entry e : lock.plugins()) {
            Path jar = jars.remove(e.file());
            if (jar == null) {
                problems.add(e.file() + " is pinned but missing");
                continue;
            }
            String sha = BundleFile.sha256(Files.readAllBytes(jar));
            if (!sha.equalsIgnoreCase(e.sha256())) {
                problems.add(e.file() + " has sha256 " + sha + ", pinned " + e.sha256());
            }
        }
        jars.keySet().forEach(f -> problems.add(f + " is in the distribution but not pinned"));
        return problems;
    }

    /** Re-pins a lockfile to the jars of a folder, keeping its other fields. */
    public static List<String> update(Path plugins, Path lockfile) throws IOException {
        Lockfile lock = Lockfile.read(lockfile);
        Map<String, Lockfile.Entry> old = lock.plugins().stream()
                .collect(Collectors.toMap(Lockfile.Entry::file, e -> e));
        List<Lockfile.Entry> entries = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Path> jar : jars(plugins).entrySet()) {
            Properties pom = pomProperties(jar.getValue());
            if (pom == null) {
                problems.add(jar.getKey() + " has no META-INF/maven/**/pom.properties to take coordinates from");
                continue;
            }
            Lockfile.Entry previous = old.get(jar.getKey());
            if (previous == null) {
                // a new version of a pinned bundle: what it provides is known from the version it replaces
                previous = lock.plugins().stream().filter(e -> e.artifactId().equals(pom.getProperty("artifactId"))
                        && e.groupId().equals(pom.getProperty("groupId"))).findFirst().orElse(null);
            }
            entries.add(new Lockfile.Entry(pom.getProperty("groupId"), pom.getProperty("artifactId"),
                    pom.getProperty("version"), jar.getKey(), BundleFile.sha256(Files.readAllBytes(jar.getValue())),
                    previous == null ? null : previous.provides()));
        }
        entries.sort(Comparator.comparing(Lockfile.Entry::file));
        if (problems.isEmpty()) {
            new Lockfile(lock.id(), lock.engineApi(), lock.runtime(), lock.aliases(), entries).write(lockfile);
        }
        return problems;
    }

    private static Map<String, Path> jars(Path dir) throws IOException {
        Map<String, Path> out = new TreeMap<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(p -> p.getFileName().toString().endsWith(".jar"))
                        .forEach(p -> out.put(p.getFileName().toString(), p));
            }
        }
        return out;
    }

    private static Properties pomProperties(Path jar) throws IOException {
        try (JarFile jf = new JarFile(jar.toFile())) {
            for (JarEntry e : java.util.Collections.list(jf.entries())) {
                if (e.getName().startsWith("META-INF/maven/") && e.getName().endsWith("/pom.properties")) {
                    Properties p = new Properties();
                    try (InputStream in = jf.getInputStream(e)) {
                        p.load(in);
                    }
                    return p;
                }
            }
        }
        return null;
    }
}
