/**
 * The {@link dev.easel.api.format.ModelFormat} SPI: one implementation per file format (safetensors, PyTorch
 * pickle checkpoints, diffusers folders, A1111 embeddings, ...). A format sniffs a path, opens it as a lazy
 * {@link dev.easel.api.tensor.TensorSource} and, if it can write, creates a streaming, atomic
 * {@link dev.easel.api.tensor.TensorSink}.
 */
@Export
@Version("1.0.0")
package dev.easel.api.format;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
