/**
 * PyTorch checkpoints ({@code .ckpt}, {@code .pt}, {@code .bin}) read without executing anything: a zip and legacy
 * container reader, a pickle interpreter with an allow-list of the globals real checkpoints use (any other is
 * refused by name), lazily memory-mapped storages with views, and a writer of torch-loadable zip checkpoints.
 */
package dev.easel.core.format.pytorch;
