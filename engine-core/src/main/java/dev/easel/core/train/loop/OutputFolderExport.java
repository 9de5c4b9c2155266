package dev.easel.core.train.loop;

import dev.easel.api.format.ModelFormat;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.WritePlan;
import dev.easel.api.training.TrainingExport;
import dev.easel.core.format.AtomicOutputFile;
import dev.easel.core.format.pytorch.TorchCheckpointWriter;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.train.io.TorchTrees;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Writes a method's results into the job's output folder, atomically, and records what it wrote. */
final class OutputFolderExport implements TrainingExport {
    private final Path dir;
    private final String outputName;
    private final Map<String, String> provenance;
    private final PluginRegistry registry;
    private final List<Path> written = new ArrayList<>();

    OutputFolderExport(Path dir, String outputName, Map<String, String> provenance, PluginRegistry registry) {
        this.dir = dir;
        this.outputName = outputName;
        this.provenance = Map.copyOf(provenance);
        this.registry = registry;
    }

    @Override
    public String outputName() {
        return outputName;
    }

    @Override
    public Map<String, String> provenance() {
        return provenance;
    }

    @Override
    public TensorSink tensors(String fileName, String formatId, WritePlan plan) throws IOException {
        Path target = target(fileName);
        if (SafetensorsReader.FORMAT_ID.equals(formatId)) {
            return SafetensorsWriter.create(target, plan);
        }
        ModelFormat format = (ModelFormat) registry.select(PluginKind.MODEL_FORMAT, formatId).plugin();
        return format.create(target, plan);
    }

    @Override
    public void torchSave(String fileName, Object root) throws IOException {
        Object converted = TorchTrees.fromArrays(root);
        TorchCheckpointWriter.save(target(fileName), converted);
    }

    @Override
    public OutputStream file(String fileName) throws IOException {
        Path target = target(fileName);
        AtomicOutputFile out = AtomicOutputFile.create(target);
        OutputStream stream = Channels.newOutputStream(out.channel());
        return new OutputStream() {
            private boolean closed;

            @Override
            public void write(int b) throws IOException {
                stream.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                stream.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                if (!closed) {
                    closed = true;
                    stream.flush();
                    out.commit();
                    out.close();
                }
            }
        };
    }

    private Path target(String fileName) throws IOException {
        Path target = dir.resolve(fileName).normalize();
        if (!target.startsWith(dir) || fileName.isBlank()) {
            throw new IOException("output file name '" + fileName + "' leaves the output folder " + dir);
        }
        Files.createDirectories(target.getParent());
        written.add(target);
        return target;
    }

    /** The files the method asked for, in order. */
    List<Path> written() {
        return List.copyOf(written);
    }
}
