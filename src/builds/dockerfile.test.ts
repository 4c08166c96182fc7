import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseRepositories } from './dockerfile.ts';

describe('baseRepositories', () => {
  it("names berth's repositories a Dockerfile pulls, not stages, scratch or other registries", () => {
    const file = [
      'ARG BASE=alice/base',
      'FROM --platform=linux/amd64 ${BASE}:1 AS build',
      'RUN make',
      'FROM debian:12',
      'FROM 127.0.0.1:5000/team/tools@sha256:' + 'a'.repeat(64),
      'FROM ghcr.io/other/image:1',
      'FROM docker.io/library/busybox',
      'FROM build',
      'FROM scratch',
      'FROM $UNSET',
      'COPY --from=build /out /',
    ].join('\n');
    assert.deepEqual(baseRepositories(file, '127.0.0.1:5000').sort(), ['alice/base', 'library/busybox', 'library/debian', 'team/tools']);
  });
});
