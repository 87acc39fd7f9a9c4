import type { CandidatePod } from './candidates';
import { decodePodList } from './podListProtobuf';

/**
 * A real response: `GET /api/v1/namespaces/fleet/pods?labelSelector=extra=yes&limit=2` with
 * `Accept: application/vnd.kubernetes.protobuf` from the sandbox's kube-apiserver v1.34, holding
 * a Running pod bound to a kwok node and an unscheduled pod held terminating by a finalizer.
 */
const REAL_POD_LIST = Buffer.from(
  [
    'azhzAAoNCgJ2MRIHUG9kTGlzdBLYHgoLCgASBTIwMDMyGgAS8A8K0gkKCXBvZC0wMDAwMhIAGgVmbGVldCIAKiRkZGQ4',
    'YmJkNC01ZjMzLTQ4OWYtYjRhYS1jNDc2MTRkMzczZGIyBTE5OTY0OAFCCAjppYrYBhAAWgwKA2FwcBIFZmxlZXRaDAoF',
    'ZXh0cmESA3llc4oBwQQKBGt3b2sSBlVwZGF0ZRoCdjEiCAjppYrYBhAAMghGaWVsZHNWMTqQBAqNBHsiZjpzdGF0dXMi',
    'OnsiZjpjb25kaXRpb25zIjp7Ii4iOnt9LCJrOntcInR5cGVcIjpcIkNvbnRhaW5lcnNSZWFkeVwifSI6eyIuIjp7fSwi',
    'ZjpsYXN0UHJvYmVUaW1lIjp7fSwiZjpsYXN0VHJhbnNpdGlvblRpbWUiOnt9LCJmOnN0YXR1cyI6e30sImY6dHlwZSI6',
    'e319LCJrOntcInR5cGVcIjpcIkluaXRpYWxpemVkXCJ9Ijp7Ii4iOnt9LCJmOmxhc3RQcm9iZVRpbWUiOnt9LCJmOmxh',
    'c3RUcmFuc2l0aW9uVGltZSI6e30sImY6c3RhdHVzIjp7fSwiZjp0eXBlIjp7fX0sIms6e1widHlwZVwiOlwiUmVhZHlc',
    'In0iOnsiLiI6e30sImY6bGFzdFByb2JlVGltZSI6e30sImY6bGFzdFRyYW5zaXRpb25UaW1lIjp7fSwiZjpzdGF0dXMi',
    'Ont9LCJmOnR5cGUiOnt9fX0sImY6Y29udGFpbmVyU3RhdHVzZXMiOnt9LCJmOmhvc3RJUCI6e30sImY6cGhhc2UiOnt9',
    'LCJmOnBvZElQIjp7fSwiZjpwb2RJUHMiOnsiLiI6e30sIms6e1wiaXBcIjpcIjEwLjI0NC41Ljk1XCJ9Ijp7Ii4iOnt9',
    'LCJmOmlwIjp7fX19LCJmOnN0YXJ0VGltZSI6e319fUIGc3RhdHVzigG8AwoHdW5rbm93bhIGVXBkYXRlGgJ2MSIICOml',
    'itgGEAAyCEZpZWxkc1YxOo4DCosDeyJmOm1ldGFkYXRhIjp7ImY6bGFiZWxzIjp7Ii4iOnt9LCJmOmFwcCI6e319fSwi',
    'ZjpzcGVjIjp7ImY6Y29udGFpbmVycyI6eyJrOntcIm5hbWVcIjpcImFwcFwifSI6eyIuIjp7fSwiZjppbWFnZSI6e30s',
    'ImY6aW1hZ2VQdWxsUG9saWN5Ijp7fSwiZjpuYW1lIjp7fSwiZjpyZXNvdXJjZXMiOnt9LCJmOnRlcm1pbmF0aW9uTWVz',
    'c2FnZVBhdGgiOnt9LCJmOnRlcm1pbmF0aW9uTWVzc2FnZVBvbGljeSI6e319fSwiZjpkbnNQb2xpY3kiOnt9LCJmOmVu',
    'YWJsZVNlcnZpY2VMaW5rcyI6e30sImY6bm9kZU5hbWUiOnt9LCJmOnJlc3RhcnRQb2xpY3kiOnt9LCJmOnNjaGVkdWxl',
    'ck5hbWUiOnt9LCJmOnNlY3VyaXR5Q29udGV4dCI6e30sImY6dGVybWluYXRpb25HcmFjZVBlcmlvZFNlY29uZHMiOnt9',
    'fX1CAIoBXwoNa3ViZWN0bC1sYWJlbBIGVXBkYXRlGgJ2MSIICLepitgGEAAyCEZpZWxkc1YxOiwKKnsiZjptZXRhZGF0',
    'YSI6eyJmOmxhYmVscyI6eyJmOmV4dHJhIjp7fX19fUIAEpoECoQBChVrdWJlLWFwaS1hY2Nlc3MtMm5ncngSa9IBaAoO',
    'IgwKABCXHBoFdG9rZW4KKBomChIKEGt1YmUtcm9vdC1jYS5jcnQSEAoGY2EuY3J0EgZjYS5jcnQKKRInCiUKCW5hbWVz',
    'cGFjZRIYCgJ2MRISbWV0YWRhdGEubmFtZXNwYWNlEKQDEqMBCgNhcHASFnJlZ2lzdHJ5LmludmFsaWQvYXBwOjEqAEIA',
    'SkwKFWt1YmUtYXBpLWFjY2Vzcy0ybmdyeBABGi0vdmFyL3J1bi9zZWNyZXRzL2t1YmVybmV0ZXMuaW8vc2VydmljZWFj',
    'Y291bnQiADIAahQvZGV2L3Rlcm1pbmF0aW9uLWxvZ3IMSWZOb3RQcmVzZW50gAEAiAEAkAEAogEERmlsZRoGQWx3YXlz',
    'IB4yDENsdXN0ZXJGaXJzdEIHZGVmYXVsdEoHZGVmYXVsdFILa3dvay1ub2RlLTJYAGAAaAByAIIBAIoBAJoBEWRlZmF1',
    'bHQtc2NoZWR1bGVysgE2Chxub2RlLmt1YmVybmV0ZXMuaW8vbm90LXJlYWR5EgZFeGlzdHMaACIJTm9FeGVjdXRlKKwC',
    'sgE4Ch5ub2RlLmt1YmVybmV0ZXMuaW8vdW5yZWFjaGFibGUSBkV4aXN0cxoAIglOb0V4ZWN1dGUorALCAQDIAQDwAQH6',
    'ARRQcmVlbXB0TG93ZXJQcmlvcml0eRr7AQoHUnVubmluZxIlCgtJbml0aWFsaXplZBIEVHJ1ZRoAIggI6aWK2AYQACoA',
    'MgA4ABIfCgVSZWFkeRIEVHJ1ZRoAIggI6aWK2AYQACoAMgA4ABIpCg9Db250YWluZXJzUmVhZHkSBFRydWUaACIICOml',
    'itgGEAAqADIAOAAaACIAKgkxMjcuMC4wLjEyCzEwLjI0NC41Ljk1OggI6aWK2AYQAEI1CgNhcHASDBIKCggI6aWK2AYQ',
    'ABoAIAEoADIWcmVnaXN0cnkuaW52YWxpZC9hcHA6MToAQgBKCkJlc3RFZmZvcnRaAGINCgsxMC4yNDQuNS45NXIAiAEA',
    'EtUOCqgICgh0ZXJtLXBvZBIAGgVmbGVldCIAKiQwZmUxZWZlYy03NzdjLTRkMjgtYTIyNy0xODY5MjYzN2E0M2UyBTE5',
    'NzQwOAJCCAiXqYrYBhAASggImKmK2AYQAFAAWgwKA2FwcBIFZmxlZXRaDAoFZXh0cmESA3llc3ISY2hhb3NjcmFmdC5p',
    'by90ZXN0igGNAgoOa3ViZS1zY2hlZHVsZXISBlVwZGF0ZRoCdjEiCAiXqYrYBhAAMghGaWVsZHNWMTrSAQrPAXsiZjpz',
    'dGF0dXMiOnsiZjpjb25kaXRpb25zIjp7Ii4iOnt9LCJrOntcInR5cGVcIjpcIlBvZFNjaGVkdWxlZFwifSI6eyIuIjp7',
    'fSwiZjpsYXN0UHJvYmVUaW1lIjp7fSwiZjpsYXN0VHJhbnNpdGlvblRpbWUiOnt9LCJmOm1lc3NhZ2UiOnt9LCJmOm9i',
    'c2VydmVkR2VuZXJhdGlvbiI6e30sImY6cmVhc29uIjp7fSwiZjpzdGF0dXMiOnt9LCJmOnR5cGUiOnt9fX19fUIGc3Rh',
    'dHVzigGMBAoLa3ViZWN0bC1ydW4SBlVwZGF0ZRoCdjEiCAiXqYrYBhAAMghGaWVsZHNWMTraAwrXA3siZjptZXRhZGF0',
    'YSI6eyJmOmZpbmFsaXplcnMiOnsiLiI6e30sInY6XCJjaGFvc2NyYWZ0LmlvL3Rlc3RcIiI6e319LCJmOmxhYmVscyI6',
    'eyIuIjp7fSwiZjphcHAiOnt9LCJmOmV4dHJhIjp7fX19LCJmOnNwZWMiOnsiZjpjb250YWluZXJzIjp7Ims6e1wibmFt',
    'ZVwiOlwidGVybS1wb2RcIn0iOnsiLiI6e30sImY6aW1hZ2UiOnt9LCJmOmltYWdlUHVsbFBvbGljeSI6e30sImY6bmFt',
    'ZSI6e30sImY6cmVzb3VyY2VzIjp7fSwiZjp0ZXJtaW5hdGlvbk1lc3NhZ2VQYXRoIjp7fSwiZjp0ZXJtaW5hdGlvbk1l',
    'c3NhZ2VQb2xpY3kiOnt9fX0sImY6ZG5zUG9saWN5Ijp7fSwiZjplbmFibGVTZXJ2aWNlTGlua3MiOnt9LCJmOm5vZGVT',
    'ZWxlY3RvciI6e30sImY6cmVzdGFydFBvbGljeSI6e30sImY6c2NoZWR1bGVyTmFtZSI6e30sImY6c2VjdXJpdHlDb250',
    'ZXh0Ijp7fSwiZjp0ZXJtaW5hdGlvbkdyYWNlUGVyaW9kU2Vjb25kcyI6e319fUIAigF6ChdrdWJlLWNvbnRyb2xsZXIt',
    'bWFuYWdlchIGVXBkYXRlGgJ2MSIICJmpitgGEAAyCEZpZWxkc1YxOjcKNXsiZjpzdGF0dXMiOnsiZjpvYnNlcnZlZEdl',
    'bmVyYXRpb24iOnt9LCJmOnBoYXNlIjp7fX19QgZzdGF0dXMSigQKhAEKFWt1YmUtYXBpLWFjY2Vzcy1rcHg3ehJr0gFo',
    'Cg4iDAoAEJccGgV0b2tlbgooGiYKEgoQa3ViZS1yb290LWNhLmNydBIQCgZjYS5jcnQSBmNhLmNydAopEicKJQoJbmFt',
    'ZXNwYWNlEhgKAnYxEhJtZXRhZGF0YS5uYW1lc3BhY2UQpAMSjQEKCHRlcm0tcG9kEgF4KgBCAEpMChVrdWJlLWFwaS1h',
    'Y2Nlc3Mta3B4N3oQARotL3Zhci9ydW4vc2VjcmV0cy9rdWJlcm5ldGVzLmlvL3NlcnZpY2VhY2NvdW50IgAyAGoUL2Rl',
    'di90ZXJtaW5hdGlvbi1sb2dyBkFsd2F5c4ABAIgBAJABAKIBBEZpbGUaBkFsd2F5cyAeMgxDbHVzdGVyRmlyc3Q6DwoH',
    'bm93aGVyZRIEdHJ1ZUIHZGVmYXVsdEoHZGVmYXVsdFIAWABgAGgAcgCCAQCKAQCaARFkZWZhdWx0LXNjaGVkdWxlcrIB',
    'Ngocbm9kZS5rdWJlcm5ldGVzLmlvL25vdC1yZWFkeRIGRXhpc3RzGgAiCU5vRXhlY3V0ZSisArIBOAoebm9kZS5rdWJl',
    'cm5ldGVzLmlvL3VucmVhY2hhYmxlEgZFeGlzdHMaACIJTm9FeGVjdXRlKKwCwgEAyAEA8AEB+gEUUHJlZW1wdExvd2Vy',
    'UHJpb3JpdHkamgIKBkZhaWxlZBL0AQoMUG9kU2NoZWR1bGVkEgVGYWxzZRoAIggIl6mK2AYQACoNVW5zY2hlZHVsYWJs',
    'ZTK/ATAvNTAgbm9kZXMgYXJlIGF2YWlsYWJsZTogNTAgbm9kZShzKSBkaWRuJ3QgbWF0Y2ggUG9kJ3Mgbm9kZSBhZmZp',
    'bml0eS9zZWxlY3Rvci4gbm8gbmV3IGNsYWltcyB0byBkZWFsbG9jYXRlLCBwcmVlbXB0aW9uOiAwLzUwIG5vZGVzIGFy',
    'ZSBhdmFpbGFibGU6IDUwIFByZWVtcHRpb24gaXMgbm90IGhlbHBmdWwgZm9yIHNjaGVkdWxpbmcuOAEaACIAKgAyAEoK',
    'QmVzdEVmZm9ydFoAcgCIAQIaACIA',
  ].join(''),
  'base64',
);

/** A minimal protobuf writer, enough to build envelopes the decoder must accept. */
function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push(rest % 0x80 | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}
function bytesField(field: number, content: number[] | string): number[] {
  const body =
    typeof content === 'string' ? [...Buffer.from(content, 'utf8')] : content;
  return [...varint(field * 8 + 2), ...varint(body.length), ...body];
}
function varintField(field: number, value: number): number[] {
  return [...varint(field * 8), ...varint(value)];
}
function envelope(podList: number[]): Buffer {
  return Buffer.from([
    0x6b,
    0x38,
    0x73,
    0x00,
    ...bytesField(1, bytesField(2, 'v1')),
    ...bytesField(2, podList),
    ...bytesField(4, ''),
  ]);
}

describe('decodePodList', () => {
  it('reads name, uid, node, phase, labels, creation and deletion from a real API server response', () => {
    const list = decodePodList(REAL_POD_LIST);
    expect(list.pods).toEqual<CandidatePod[]>([
      {
        name: 'pod-00002',
        uid: 'ddd8bbd4-5f33-489f-b4aa-c47614d373db',
        node: 'kwok-node-2',
        phase: 'Running',
        deleting: false,
        labels: { app: 'fleet', extra: 'yes' },
        createdAt: Date.parse('2026-11-22T06:59:53Z'),
      },
      {
        name: 'term-pod',
        uid: '0fe1efec-777c-4d28-a227-18692637a43e',
        node: undefined,
        phase: 'Failed',
        deleting: true,
        labels: { app: 'fleet', extra: 'yes' },
        createdAt: Date.parse('2026-11-22T07:07:03Z'),
      },
    ]);
    expect(list.continueToken).toBeUndefined();
    expect(list.resourceVersion).toMatch(/^\d+$/);
  });

  it('skips unknown fields of every wire type, reads the continue token and appends to a page', () => {
    const pod = [
      ...bytesField(1, [
        ...bytesField(1, 'web-1'),
        ...varintField(7, 2 ** 40), // generation: a 64-bit varint
        ...bytesField(5, 'uid-1'),
        ...bytesField(8, [
          ...varintField(1, 1_795_330_793),
          ...varintField(2, 5),
        ]), // creationTimestamp
        ...bytesField(11, [...bytesField(1, 'app'), ...bytesField(2, 'web')]),
        ...bytesField(17, [
          ...bytesField(1, 'kubectl'),
          ...bytesField(7, '{"f:spec":{}}'),
        ]), // managedFields
        ...[0x5d, 1, 2, 3, 4], // field 11 as fixed32: not a label entry, skipped
        ...[0x61, 1, 2, 3, 4, 5, 6, 7, 8], // field 12 as fixed64
      ]),
      ...bytesField(2, [
        ...bytesField(1, [...bytesField(1, 'app')]),
        ...bytesField(10, 'node-a'),
      ]),
      ...bytesField(3, [
        ...bytesField(1, 'Running'),
        ...bytesField(2, [...bytesField(1, 'Ready')]),
      ]),
    ];
    const listMeta = [
      ...bytesField(2, '42'),
      ...bytesField(3, 'next-page'),
      ...varintField(4, 7),
    ];
    const into: CandidatePod[] = [
      { name: 'earlier', uid: 'u0', deleting: false, labels: {} },
    ];
    const list = decodePodList(
      envelope([...bytesField(1, listMeta), ...bytesField(2, pod)]),
      into,
    );
    expect(list.pods).toBe(into);
    expect(into.map(p => p.name)).toEqual(['earlier', 'web-1']);
    expect(into[1]).toEqual({
      name: 'web-1',
      uid: 'uid-1',
      node: 'node-a',
      phase: 'Running',
      deleting: false,
      labels: { app: 'web' },
      createdAt: 1_795_330_793_000,
    });
    expect(list).toMatchObject({
      continueToken: 'next-page',
      resourceVersion: '42',
    });
  });

  it('treats the empty strings Go writes for unset fields as absent', () => {
    const pod = [
      ...bytesField(1, bytesField(1, 'p')),
      ...bytesField(2, bytesField(10, '')),
      ...bytesField(3, bytesField(1, '')),
    ];
    const [decoded] = decodePodList(
      envelope([...bytesField(1, bytesField(3, '')), ...bytesField(2, pod)]),
    ).pods;
    expect(decoded).toEqual({
      name: 'p',
      uid: '',
      node: undefined,
      phase: undefined,
      deleting: false,
      labels: {},
    });
  });

  it('refuses a body that is not Kubernetes protobuf, and a truncated one', () => {
    expect(() => decodePodList(Buffer.from('{"items":[]}'))).toThrow(
      /not a Kubernetes protobuf/,
    );
    expect(() =>
      decodePodList(REAL_POD_LIST.subarray(0, REAL_POD_LIST.length - 100)),
    ).toThrow(/protobuf:/);
  });
});
