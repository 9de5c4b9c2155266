/** An example third-party Easel plugin; see docs/plugin-authoring.md. */
package org.example.easel.average;
