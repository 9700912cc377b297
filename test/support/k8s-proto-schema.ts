// Field numbers and types of the Kubernetes protobuf messages the apiserver double encodes.
// Source: kubernetes/kubernetes staging/src/k8s.io/api/core/v1/generated.proto @ 0032f46b5dcb893b0684679408a2da9bd26a0859 (core/v1; a 1.36 development tree)
// Source: aaron-prindle/kubernetes (fork of kubernetes/kubernetes) staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto @ 25d85c8fb532f6ed8d87093f4d881210382caa77 (meta/v1), checked against adivyoseph/ai_kubelet same path @ 2066c48b0a8ca3f1ce92e1b1c4cae857b3a41be1
// Source: kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/runtime/generated.proto @ 203d8ac83844b8ea8ece8ece7630cb22ef8f327d (runtime)
// Source: kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/api/resource/generated.proto @ 0f9f0907d6dbe57e78d61f3432bf9b63514b540a (resource)
// Source: kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/util/intstr/generated.proto @ 009a4a8bc0b3dde74bdce54289f58bf82efaf5e9 (intstr)
// Source: kubernetes/kubernetes staging/src/k8s.io/api/discovery/v1/generated.proto @ b94367cabf3edea99cfd7ecf7e8bafdc908d83ca (discovery/v1)
// Service, ServiceList, ServiceSpec, ServicePort, ServiceStatus, LoadBalancerStatus, LoadBalancerIngress, PortStatus,
// SessionAffinityConfig, ClientIPConfig, Namespace*, ObjectReference come from the same core/v1 file @ 0032f46b5dcb893b0684679408a2da9bd26a0859.
// The only kubernetes/api core/v1/generated.proto stored (@ 35f2b3a24dcfdb74ee45e2ddc8d44d6cc9732aa6) predates
// ProbeHandler, HostIP and others, so core/v1 comes from the staging copy it is published from.
//
// Notes:
// - Every file is `syntax = "proto2"` and declares no `[packed=true]`, so repeated scalars
//   (e.g. PodSecurityContext.supplementalGroups) are encoded unpacked, one tag per element.
// - Two messages are called TypeMeta, and their numbers differ: meta/v1 TypeMeta is kind = 1,
//   apiVersion = 2; runtime TypeMeta (the one inside the runtime.Unknown envelope) is
//   apiVersion = 1, kind = 2. Here the runtime one is keyed 'RuntimeTypeMeta'.
// - ObjectMeta numbers 15 (clusterName) and 16 (initializers) no longer exist in the current proto.
// - Time, Quantity, IntOrString, FieldsV1 and Unknown use custom JSON marshalling (RFC 3339 string,
//   quantity string, number-or-string, raw JSON object, raw bytes). Their `json` values below are just
//   the proto names. Map a JSON value to these messages by hand.
// - `json: ''` marks Go embedded fields tagged `json:",inline"` (confirmed against types.go copies):
//   Probe.handler, Volume.volumeSource, ConfigMapProjection.localObjectReference,
//   ConfigMapVolumeSource.localObjectReference, Unknown.typeMeta. Apart from these, the proto names
//   are the JSON names, because go-to-protobuf takes the proto name from the json tag.
// - Numbers missing from the current proto: ServiceSpec 6, 15, 16 (types.go keeps tombstones: 15 was ipFamily,
//   16 topologyKeys) and NamespaceCondition 3. ServiceSpec.clusterIPs (18), ipFamilies (19) and ipFamilyPolicy (17)
//   are out of order.
// - ServiceStatus.conditions is a repeated meta/v1 Condition, which is not in MESSAGES (a Service with
//   status.conditions cannot be encoded until it is added).
// - discovery/v1 EndpointPort (name 1, protocol 2, port 3, appProtocol 4) is not core/v1 EndpointPort (name 1, port 2,
//   protocol 3, appProtocol 4, per core/v1 types.go); only the discovery one is here.
export type Scalar = 'string' | 'bool' | 'int32' | 'int64' | 'double' | 'bytes';
export interface FieldSpec {
  /** protobuf field number */
  readonly n: number;
  /** a Scalar, or the name of another message in MESSAGES ('Time', 'Quantity', 'IntOrString', 'FieldsV1', 'ObjectMeta', ...) */
  readonly type: string;
  readonly repeated?: true;
  /** map<string, V>: `type` is V (a Scalar or message name); map entries are key = 1, value = 2 */
  readonly map?: true;
  /**
   * The JSON name of the field. For a field that JSON inlines (Go struct embedding with
   * `json:",inline"`, e.g. Volume.volumeSource, Probe.handler, ConfigMapProjection.localObjectReference,
   * ConfigMapVolumeSource.localObjectReference, Unknown.typeMeta), this is '' (the empty string).
   */
  readonly json: string;
}
export const MESSAGES: Readonly<Record<string, Readonly<Record<string, FieldSpec>>>> = {
  // ---------------------------------------------------------------- meta/v1 (k8s.io.apimachinery.pkg.apis.meta.v1)
  ObjectMeta: {
    name: { n: 1, type: 'string', json: 'name' },
    generateName: { n: 2, type: 'string', json: 'generateName' },
    namespace: { n: 3, type: 'string', json: 'namespace' },
    selfLink: { n: 4, type: 'string', json: 'selfLink' },
    uid: { n: 5, type: 'string', json: 'uid' },
    resourceVersion: { n: 6, type: 'string', json: 'resourceVersion' },
    generation: { n: 7, type: 'int64', json: 'generation' },
    creationTimestamp: { n: 8, type: 'Time', json: 'creationTimestamp' },
    deletionTimestamp: { n: 9, type: 'Time', json: 'deletionTimestamp' },
    deletionGracePeriodSeconds: { n: 10, type: 'int64', json: 'deletionGracePeriodSeconds' },
    labels: { n: 11, type: 'string', map: true, json: 'labels' },
    annotations: { n: 12, type: 'string', map: true, json: 'annotations' },
    ownerReferences: { n: 13, type: 'OwnerReference', repeated: true, json: 'ownerReferences' },
    finalizers: { n: 14, type: 'string', repeated: true, json: 'finalizers' },
    managedFields: { n: 17, type: 'ManagedFieldsEntry', repeated: true, json: 'managedFields' },
  },
  ListMeta: {
    selfLink: { n: 1, type: 'string', json: 'selfLink' },
    resourceVersion: { n: 2, type: 'string', json: 'resourceVersion' },
    continue: { n: 3, type: 'string', json: 'continue' },
    remainingItemCount: { n: 4, type: 'int64', json: 'remainingItemCount' },
  },
  OwnerReference: {
    apiVersion: { n: 5, type: 'string', json: 'apiVersion' },
    kind: { n: 1, type: 'string', json: 'kind' },
    name: { n: 3, type: 'string', json: 'name' },
    uid: { n: 4, type: 'string', json: 'uid' },
    controller: { n: 6, type: 'bool', json: 'controller' },
    blockOwnerDeletion: { n: 7, type: 'bool', json: 'blockOwnerDeletion' },
  },
  ManagedFieldsEntry: {
    manager: { n: 1, type: 'string', json: 'manager' },
    operation: { n: 2, type: 'string', json: 'operation' },
    apiVersion: { n: 3, type: 'string', json: 'apiVersion' },
    time: { n: 4, type: 'Time', json: 'time' },
    fieldsType: { n: 6, type: 'string', json: 'fieldsType' },
    fieldsV1: { n: 7, type: 'FieldsV1', json: 'fieldsV1' },
    subresource: { n: 8, type: 'string', json: 'subresource' },
  },
  /** JSON: the fields object itself; Raw holds its JSON serialization. */
  FieldsV1: {
    Raw: { n: 1, type: 'bytes', json: 'Raw' },
  },
  /** JSON: an RFC 3339 string. Protobuf: a Timestamp-shaped message. */
  Time: {
    seconds: { n: 1, type: 'int64', json: 'seconds' },
    nanos: { n: 2, type: 'int32', json: 'nanos' },
  },
  Status: {
    metadata: { n: 1, type: 'ListMeta', json: 'metadata' },
    status: { n: 2, type: 'string', json: 'status' },
    message: { n: 3, type: 'string', json: 'message' },
    reason: { n: 4, type: 'string', json: 'reason' },
    details: { n: 5, type: 'StatusDetails', json: 'details' },
    code: { n: 6, type: 'int32', json: 'code' },
  },
  StatusDetails: {
    name: { n: 1, type: 'string', json: 'name' },
    group: { n: 2, type: 'string', json: 'group' },
    kind: { n: 3, type: 'string', json: 'kind' },
    uid: { n: 6, type: 'string', json: 'uid' },
    causes: { n: 4, type: 'StatusCause', repeated: true, json: 'causes' },
    retryAfterSeconds: { n: 5, type: 'int32', json: 'retryAfterSeconds' },
  },
  StatusCause: {
    reason: { n: 1, type: 'string', json: 'reason' },
    message: { n: 2, type: 'string', json: 'message' },
    field: { n: 3, type: 'string', json: 'field' },
  },
  /** meta/v1 TypeMeta (kind = 1, apiVersion = 2). Not the one in runtime.Unknown; see RuntimeTypeMeta. */
  TypeMeta: {
    kind: { n: 1, type: 'string', json: 'kind' },
    apiVersion: { n: 2, type: 'string', json: 'apiVersion' },
  },

  // ---------------------------------------------------------------- runtime (k8s.io.apimachinery.pkg.runtime)
  /** runtime.TypeMeta (apiVersion = 1, kind = 2): the one inside the Unknown envelope. */
  RuntimeTypeMeta: {
    apiVersion: { n: 1, type: 'string', json: 'apiVersion' },
    kind: { n: 2, type: 'string', json: 'kind' },
  },
  /** The envelope after the 'k8s\x00' magic prefix. JSON names below are nominal (Unknown marshals Raw as-is). */
  Unknown: {
    typeMeta: { n: 1, type: 'RuntimeTypeMeta', json: '' },
    raw: { n: 2, type: 'bytes', json: 'raw' },
    contentEncoding: { n: 3, type: 'string', json: 'contentEncoding' },
    contentType: { n: 4, type: 'string', json: 'contentType' },
  },

  // ---------------------------------------------------------------- resource, intstr
  /** JSON: a quantity string such as "100m". */
  Quantity: {
    string: { n: 1, type: 'string', json: 'string' },
  },
  /** JSON: a number or a string. type is 0 (Int) or 1 (String). */
  IntOrString: {
    type: { n: 1, type: 'int64', json: 'type' },
    intVal: { n: 2, type: 'int32', json: 'intVal' },
    strVal: { n: 3, type: 'string', json: 'strVal' },
  },

  // ---------------------------------------------------------------- core/v1 (k8s.io.api.core.v1)
  Pod: {
    metadata: { n: 1, type: 'ObjectMeta', json: 'metadata' },
    spec: { n: 2, type: 'PodSpec', json: 'spec' },
    status: { n: 3, type: 'PodStatus', json: 'status' },
  },
  PodList: {
    metadata: { n: 1, type: 'ListMeta', json: 'metadata' },
    items: { n: 2, type: 'Pod', repeated: true, json: 'items' },
  },
  PodSpec: {
    volumes: { n: 1, type: 'Volume', repeated: true, json: 'volumes' },
    initContainers: { n: 20, type: 'Container', repeated: true, json: 'initContainers' },
    containers: { n: 2, type: 'Container', repeated: true, json: 'containers' },
    ephemeralContainers: { n: 34, type: 'EphemeralContainer', repeated: true, json: 'ephemeralContainers' },
    restartPolicy: { n: 3, type: 'string', json: 'restartPolicy' },
    terminationGracePeriodSeconds: { n: 4, type: 'int64', json: 'terminationGracePeriodSeconds' },
    activeDeadlineSeconds: { n: 5, type: 'int64', json: 'activeDeadlineSeconds' },
    dnsPolicy: { n: 6, type: 'string', json: 'dnsPolicy' },
    nodeSelector: { n: 7, type: 'string', map: true, json: 'nodeSelector' },
    serviceAccountName: { n: 8, type: 'string', json: 'serviceAccountName' },
    serviceAccount: { n: 9, type: 'string', json: 'serviceAccount' },
    automountServiceAccountToken: { n: 21, type: 'bool', json: 'automountServiceAccountToken' },
    nodeName: { n: 10, type: 'string', json: 'nodeName' },
    hostNetwork: { n: 11, type: 'bool', json: 'hostNetwork' },
    hostPID: { n: 12, type: 'bool', json: 'hostPID' },
    hostIPC: { n: 13, type: 'bool', json: 'hostIPC' },
    shareProcessNamespace: { n: 27, type: 'bool', json: 'shareProcessNamespace' },
    securityContext: { n: 14, type: 'PodSecurityContext', json: 'securityContext' },
    imagePullSecrets: { n: 15, type: 'LocalObjectReference', repeated: true, json: 'imagePullSecrets' },
    hostname: { n: 16, type: 'string', json: 'hostname' },
    subdomain: { n: 17, type: 'string', json: 'subdomain' },
    affinity: { n: 18, type: 'Affinity', json: 'affinity' },
    schedulerName: { n: 19, type: 'string', json: 'schedulerName' },
    tolerations: { n: 22, type: 'Toleration', repeated: true, json: 'tolerations' },
    hostAliases: { n: 23, type: 'HostAlias', repeated: true, json: 'hostAliases' },
    priorityClassName: { n: 24, type: 'string', json: 'priorityClassName' },
    priority: { n: 25, type: 'int32', json: 'priority' },
    dnsConfig: { n: 26, type: 'PodDNSConfig', json: 'dnsConfig' },
    readinessGates: { n: 28, type: 'PodReadinessGate', repeated: true, json: 'readinessGates' },
    runtimeClassName: { n: 29, type: 'string', json: 'runtimeClassName' },
    enableServiceLinks: { n: 30, type: 'bool', json: 'enableServiceLinks' },
    preemptionPolicy: { n: 31, type: 'string', json: 'preemptionPolicy' },
    overhead: { n: 32, type: 'Quantity', map: true, json: 'overhead' },
    topologySpreadConstraints: { n: 33, type: 'TopologySpreadConstraint', repeated: true, json: 'topologySpreadConstraints' },
    setHostnameAsFQDN: { n: 35, type: 'bool', json: 'setHostnameAsFQDN' },
    os: { n: 36, type: 'PodOS', json: 'os' },
    hostUsers: { n: 37, type: 'bool', json: 'hostUsers' },
    schedulingGates: { n: 38, type: 'PodSchedulingGate', repeated: true, json: 'schedulingGates' },
    resourceClaims: { n: 39, type: 'PodResourceClaim', repeated: true, json: 'resourceClaims' },
    resources: { n: 40, type: 'ResourceRequirements', json: 'resources' },
    hostnameOverride: { n: 41, type: 'string', json: 'hostnameOverride' },
    workloadRef: { n: 42, type: 'WorkloadReference', json: 'workloadRef' },
  },
  PodStatus: {
    observedGeneration: { n: 17, type: 'int64', json: 'observedGeneration' },
    phase: { n: 1, type: 'string', json: 'phase' },
    conditions: { n: 2, type: 'PodCondition', repeated: true, json: 'conditions' },
    message: { n: 3, type: 'string', json: 'message' },
    reason: { n: 4, type: 'string', json: 'reason' },
    nominatedNodeName: { n: 11, type: 'string', json: 'nominatedNodeName' },
    hostIP: { n: 5, type: 'string', json: 'hostIP' },
    hostIPs: { n: 16, type: 'HostIP', repeated: true, json: 'hostIPs' },
    podIP: { n: 6, type: 'string', json: 'podIP' },
    podIPs: { n: 12, type: 'PodIP', repeated: true, json: 'podIPs' },
    startTime: { n: 7, type: 'Time', json: 'startTime' },
    initContainerStatuses: { n: 10, type: 'ContainerStatus', repeated: true, json: 'initContainerStatuses' },
    containerStatuses: { n: 8, type: 'ContainerStatus', repeated: true, json: 'containerStatuses' },
    qosClass: { n: 9, type: 'string', json: 'qosClass' },
    ephemeralContainerStatuses: { n: 13, type: 'ContainerStatus', repeated: true, json: 'ephemeralContainerStatuses' },
    resize: { n: 14, type: 'string', json: 'resize' },
    resourceClaimStatuses: { n: 15, type: 'PodResourceClaimStatus', repeated: true, json: 'resourceClaimStatuses' },
    extendedResourceClaimStatus: { n: 18, type: 'PodExtendedResourceClaimStatus', json: 'extendedResourceClaimStatus' },
    allocatedResources: { n: 19, type: 'Quantity', map: true, json: 'allocatedResources' },
    resources: { n: 20, type: 'ResourceRequirements', json: 'resources' },
  },
  PodCondition: {
    type: { n: 1, type: 'string', json: 'type' },
    observedGeneration: { n: 7, type: 'int64', json: 'observedGeneration' },
    status: { n: 2, type: 'string', json: 'status' },
    lastProbeTime: { n: 3, type: 'Time', json: 'lastProbeTime' },
    lastTransitionTime: { n: 4, type: 'Time', json: 'lastTransitionTime' },
    reason: { n: 5, type: 'string', json: 'reason' },
    message: { n: 6, type: 'string', json: 'message' },
  },
  PodIP: {
    ip: { n: 1, type: 'string', json: 'ip' },
  },
  HostIP: {
    ip: { n: 1, type: 'string', json: 'ip' },
  },
  ContainerStatus: {
    name: { n: 1, type: 'string', json: 'name' },
    state: { n: 2, type: 'ContainerState', json: 'state' },
    lastState: { n: 3, type: 'ContainerState', json: 'lastState' },
    ready: { n: 4, type: 'bool', json: 'ready' },
    restartCount: { n: 5, type: 'int32', json: 'restartCount' },
    image: { n: 6, type: 'string', json: 'image' },
    imageID: { n: 7, type: 'string', json: 'imageID' },
    containerID: { n: 8, type: 'string', json: 'containerID' },
    started: { n: 9, type: 'bool', json: 'started' },
    allocatedResources: { n: 10, type: 'Quantity', map: true, json: 'allocatedResources' },
    resources: { n: 11, type: 'ResourceRequirements', json: 'resources' },
    volumeMounts: { n: 12, type: 'VolumeMountStatus', repeated: true, json: 'volumeMounts' },
    user: { n: 13, type: 'ContainerUser', json: 'user' },
    allocatedResourcesStatus: { n: 14, type: 'ResourceStatus', repeated: true, json: 'allocatedResourcesStatus' },
    stopSignal: { n: 15, type: 'string', json: 'stopSignal' },
  },
  ContainerState: {
    waiting: { n: 1, type: 'ContainerStateWaiting', json: 'waiting' },
    running: { n: 2, type: 'ContainerStateRunning', json: 'running' },
    terminated: { n: 3, type: 'ContainerStateTerminated', json: 'terminated' },
  },
  ContainerStateRunning: {
    startedAt: { n: 1, type: 'Time', json: 'startedAt' },
  },
  ContainerStateTerminated: {
    exitCode: { n: 1, type: 'int32', json: 'exitCode' },
    signal: { n: 2, type: 'int32', json: 'signal' },
    reason: { n: 3, type: 'string', json: 'reason' },
    message: { n: 4, type: 'string', json: 'message' },
    startedAt: { n: 5, type: 'Time', json: 'startedAt' },
    finishedAt: { n: 6, type: 'Time', json: 'finishedAt' },
    containerID: { n: 7, type: 'string', json: 'containerID' },
  },
  ContainerStateWaiting: {
    reason: { n: 1, type: 'string', json: 'reason' },
    message: { n: 2, type: 'string', json: 'message' },
  },
  Container: {
    name: { n: 1, type: 'string', json: 'name' },
    image: { n: 2, type: 'string', json: 'image' },
    command: { n: 3, type: 'string', repeated: true, json: 'command' },
    args: { n: 4, type: 'string', repeated: true, json: 'args' },
    workingDir: { n: 5, type: 'string', json: 'workingDir' },
    ports: { n: 6, type: 'ContainerPort', repeated: true, json: 'ports' },
    envFrom: { n: 19, type: 'EnvFromSource', repeated: true, json: 'envFrom' },
    env: { n: 7, type: 'EnvVar', repeated: true, json: 'env' },
    resources: { n: 8, type: 'ResourceRequirements', json: 'resources' },
    resizePolicy: { n: 23, type: 'ContainerResizePolicy', repeated: true, json: 'resizePolicy' },
    restartPolicy: { n: 24, type: 'string', json: 'restartPolicy' },
    restartPolicyRules: { n: 25, type: 'ContainerRestartRule', repeated: true, json: 'restartPolicyRules' },
    volumeMounts: { n: 9, type: 'VolumeMount', repeated: true, json: 'volumeMounts' },
    volumeDevices: { n: 21, type: 'VolumeDevice', repeated: true, json: 'volumeDevices' },
    livenessProbe: { n: 10, type: 'Probe', json: 'livenessProbe' },
    readinessProbe: { n: 11, type: 'Probe', json: 'readinessProbe' },
    startupProbe: { n: 22, type: 'Probe', json: 'startupProbe' },
    lifecycle: { n: 12, type: 'Lifecycle', json: 'lifecycle' },
    terminationMessagePath: { n: 13, type: 'string', json: 'terminationMessagePath' },
    terminationMessagePolicy: { n: 20, type: 'string', json: 'terminationMessagePolicy' },
    imagePullPolicy: { n: 14, type: 'string', json: 'imagePullPolicy' },
    securityContext: { n: 15, type: 'SecurityContext', json: 'securityContext' },
    stdin: { n: 16, type: 'bool', json: 'stdin' },
    stdinOnce: { n: 17, type: 'bool', json: 'stdinOnce' },
    tty: { n: 18, type: 'bool', json: 'tty' },
  },
  ContainerPort: {
    name: { n: 1, type: 'string', json: 'name' },
    hostPort: { n: 2, type: 'int32', json: 'hostPort' },
    containerPort: { n: 3, type: 'int32', json: 'containerPort' },
    protocol: { n: 4, type: 'string', json: 'protocol' },
    hostIP: { n: 5, type: 'string', json: 'hostIP' },
  },
  EnvVar: {
    name: { n: 1, type: 'string', json: 'name' },
    value: { n: 2, type: 'string', json: 'value' },
    valueFrom: { n: 3, type: 'EnvVarSource', json: 'valueFrom' },
  },
  EnvVarSource: {
    fieldRef: { n: 1, type: 'ObjectFieldSelector', json: 'fieldRef' },
    resourceFieldRef: { n: 2, type: 'ResourceFieldSelector', json: 'resourceFieldRef' },
    configMapKeyRef: { n: 3, type: 'ConfigMapKeySelector', json: 'configMapKeyRef' },
    secretKeyRef: { n: 4, type: 'SecretKeySelector', json: 'secretKeyRef' },
    fileKeyRef: { n: 5, type: 'FileKeySelector', json: 'fileKeyRef' },
  },
  ResourceRequirements: {
    limits: { n: 1, type: 'Quantity', map: true, json: 'limits' },
    requests: { n: 2, type: 'Quantity', map: true, json: 'requests' },
    claims: { n: 3, type: 'ResourceClaim', repeated: true, json: 'claims' },
  },
  VolumeMount: {
    name: { n: 1, type: 'string', json: 'name' },
    readOnly: { n: 2, type: 'bool', json: 'readOnly' },
    recursiveReadOnly: { n: 7, type: 'string', json: 'recursiveReadOnly' },
    mountPath: { n: 3, type: 'string', json: 'mountPath' },
    subPath: { n: 4, type: 'string', json: 'subPath' },
    mountPropagation: { n: 5, type: 'string', json: 'mountPropagation' },
    subPathExpr: { n: 6, type: 'string', json: 'subPathExpr' },
  },
  Probe: {
    handler: { n: 1, type: 'ProbeHandler', json: '' },
    initialDelaySeconds: { n: 2, type: 'int32', json: 'initialDelaySeconds' },
    timeoutSeconds: { n: 3, type: 'int32', json: 'timeoutSeconds' },
    periodSeconds: { n: 4, type: 'int32', json: 'periodSeconds' },
    successThreshold: { n: 5, type: 'int32', json: 'successThreshold' },
    failureThreshold: { n: 6, type: 'int32', json: 'failureThreshold' },
    terminationGracePeriodSeconds: { n: 7, type: 'int64', json: 'terminationGracePeriodSeconds' },
  },
  ProbeHandler: {
    exec: { n: 1, type: 'ExecAction', json: 'exec' },
    httpGet: { n: 2, type: 'HTTPGetAction', json: 'httpGet' },
    tcpSocket: { n: 3, type: 'TCPSocketAction', json: 'tcpSocket' },
    grpc: { n: 4, type: 'GRPCAction', json: 'grpc' },
  },
  HTTPGetAction: {
    path: { n: 1, type: 'string', json: 'path' },
    port: { n: 2, type: 'IntOrString', json: 'port' },
    host: { n: 3, type: 'string', json: 'host' },
    scheme: { n: 4, type: 'string', json: 'scheme' },
    httpHeaders: { n: 5, type: 'HTTPHeader', repeated: true, json: 'httpHeaders' },
  },
  HTTPHeader: {
    name: { n: 1, type: 'string', json: 'name' },
    value: { n: 2, type: 'string', json: 'value' },
  },
  TCPSocketAction: {
    port: { n: 1, type: 'IntOrString', json: 'port' },
    host: { n: 2, type: 'string', json: 'host' },
  },
  ExecAction: {
    command: { n: 1, type: 'string', repeated: true, json: 'command' },
  },
  Volume: {
    name: { n: 1, type: 'string', json: 'name' },
    volumeSource: { n: 2, type: 'VolumeSource', json: '' },
  },
  VolumeSource: {
    hostPath: { n: 1, type: 'HostPathVolumeSource', json: 'hostPath' },
    emptyDir: { n: 2, type: 'EmptyDirVolumeSource', json: 'emptyDir' },
    gcePersistentDisk: { n: 3, type: 'GCEPersistentDiskVolumeSource', json: 'gcePersistentDisk' },
    awsElasticBlockStore: { n: 4, type: 'AWSElasticBlockStoreVolumeSource', json: 'awsElasticBlockStore' },
    gitRepo: { n: 5, type: 'GitRepoVolumeSource', json: 'gitRepo' },
    secret: { n: 6, type: 'SecretVolumeSource', json: 'secret' },
    nfs: { n: 7, type: 'NFSVolumeSource', json: 'nfs' },
    iscsi: { n: 8, type: 'ISCSIVolumeSource', json: 'iscsi' },
    glusterfs: { n: 9, type: 'GlusterfsVolumeSource', json: 'glusterfs' },
    persistentVolumeClaim: { n: 10, type: 'PersistentVolumeClaimVolumeSource', json: 'persistentVolumeClaim' },
    rbd: { n: 11, type: 'RBDVolumeSource', json: 'rbd' },
    flexVolume: { n: 12, type: 'FlexVolumeSource', json: 'flexVolume' },
    cinder: { n: 13, type: 'CinderVolumeSource', json: 'cinder' },
    cephfs: { n: 14, type: 'CephFSVolumeSource', json: 'cephfs' },
    flocker: { n: 15, type: 'FlockerVolumeSource', json: 'flocker' },
    downwardAPI: { n: 16, type: 'DownwardAPIVolumeSource', json: 'downwardAPI' },
    fc: { n: 17, type: 'FCVolumeSource', json: 'fc' },
    azureFile: { n: 18, type: 'AzureFileVolumeSource', json: 'azureFile' },
    configMap: { n: 19, type: 'ConfigMapVolumeSource', json: 'configMap' },
    vsphereVolume: { n: 20, type: 'VsphereVirtualDiskVolumeSource', json: 'vsphereVolume' },
    quobyte: { n: 21, type: 'QuobyteVolumeSource', json: 'quobyte' },
    azureDisk: { n: 22, type: 'AzureDiskVolumeSource', json: 'azureDisk' },
    photonPersistentDisk: { n: 23, type: 'PhotonPersistentDiskVolumeSource', json: 'photonPersistentDisk' },
    projected: { n: 26, type: 'ProjectedVolumeSource', json: 'projected' },
    portworxVolume: { n: 24, type: 'PortworxVolumeSource', json: 'portworxVolume' },
    scaleIO: { n: 25, type: 'ScaleIOVolumeSource', json: 'scaleIO' },
    storageos: { n: 27, type: 'StorageOSVolumeSource', json: 'storageos' },
    csi: { n: 28, type: 'CSIVolumeSource', json: 'csi' },
    ephemeral: { n: 29, type: 'EphemeralVolumeSource', json: 'ephemeral' },
    image: { n: 30, type: 'ImageVolumeSource', json: 'image' },
  },
  ProjectedVolumeSource: {
    sources: { n: 1, type: 'VolumeProjection', repeated: true, json: 'sources' },
    defaultMode: { n: 2, type: 'int32', json: 'defaultMode' },
  },
  VolumeProjection: {
    secret: { n: 1, type: 'SecretProjection', json: 'secret' },
    downwardAPI: { n: 2, type: 'DownwardAPIProjection', json: 'downwardAPI' },
    configMap: { n: 3, type: 'ConfigMapProjection', json: 'configMap' },
    serviceAccountToken: { n: 4, type: 'ServiceAccountTokenProjection', json: 'serviceAccountToken' },
    clusterTrustBundle: { n: 5, type: 'ClusterTrustBundleProjection', json: 'clusterTrustBundle' },
    podCertificate: { n: 6, type: 'PodCertificateProjection', json: 'podCertificate' },
  },
  ServiceAccountTokenProjection: {
    audience: { n: 1, type: 'string', json: 'audience' },
    expirationSeconds: { n: 2, type: 'int64', json: 'expirationSeconds' },
    path: { n: 3, type: 'string', json: 'path' },
  },
  ConfigMapProjection: {
    localObjectReference: { n: 1, type: 'LocalObjectReference', json: '' },
    items: { n: 2, type: 'KeyToPath', repeated: true, json: 'items' },
    optional: { n: 4, type: 'bool', json: 'optional' },
  },
  LocalObjectReference: {
    name: { n: 1, type: 'string', json: 'name' },
  },
  KeyToPath: {
    key: { n: 1, type: 'string', json: 'key' },
    path: { n: 2, type: 'string', json: 'path' },
    mode: { n: 3, type: 'int32', json: 'mode' },
  },
  DownwardAPIProjection: {
    items: { n: 1, type: 'DownwardAPIVolumeFile', repeated: true, json: 'items' },
  },
  DownwardAPIVolumeFile: {
    path: { n: 1, type: 'string', json: 'path' },
    fieldRef: { n: 2, type: 'ObjectFieldSelector', json: 'fieldRef' },
    resourceFieldRef: { n: 3, type: 'ResourceFieldSelector', json: 'resourceFieldRef' },
    mode: { n: 4, type: 'int32', json: 'mode' },
  },
  ObjectFieldSelector: {
    apiVersion: { n: 1, type: 'string', json: 'apiVersion' },
    fieldPath: { n: 2, type: 'string', json: 'fieldPath' },
  },
  Toleration: {
    key: { n: 1, type: 'string', json: 'key' },
    operator: { n: 2, type: 'string', json: 'operator' },
    value: { n: 3, type: 'string', json: 'value' },
    effect: { n: 4, type: 'string', json: 'effect' },
    tolerationSeconds: { n: 5, type: 'int64', json: 'tolerationSeconds' },
  },
  PodSecurityContext: {
    seLinuxOptions: { n: 1, type: 'SELinuxOptions', json: 'seLinuxOptions' },
    windowsOptions: { n: 8, type: 'WindowsSecurityContextOptions', json: 'windowsOptions' },
    runAsUser: { n: 2, type: 'int64', json: 'runAsUser' },
    runAsGroup: { n: 6, type: 'int64', json: 'runAsGroup' },
    runAsNonRoot: { n: 3, type: 'bool', json: 'runAsNonRoot' },
    supplementalGroups: { n: 4, type: 'int64', repeated: true, json: 'supplementalGroups' },
    supplementalGroupsPolicy: { n: 12, type: 'string', json: 'supplementalGroupsPolicy' },
    fsGroup: { n: 5, type: 'int64', json: 'fsGroup' },
    sysctls: { n: 7, type: 'Sysctl', repeated: true, json: 'sysctls' },
    fsGroupChangePolicy: { n: 9, type: 'string', json: 'fsGroupChangePolicy' },
    seccompProfile: { n: 10, type: 'SeccompProfile', json: 'seccompProfile' },
    appArmorProfile: { n: 11, type: 'AppArmorProfile', json: 'appArmorProfile' },
    seLinuxChangePolicy: { n: 13, type: 'string', json: 'seLinuxChangePolicy' },
  },
  SecurityContext: {
    capabilities: { n: 1, type: 'Capabilities', json: 'capabilities' },
    privileged: { n: 2, type: 'bool', json: 'privileged' },
    seLinuxOptions: { n: 3, type: 'SELinuxOptions', json: 'seLinuxOptions' },
    windowsOptions: { n: 10, type: 'WindowsSecurityContextOptions', json: 'windowsOptions' },
    runAsUser: { n: 4, type: 'int64', json: 'runAsUser' },
    runAsGroup: { n: 8, type: 'int64', json: 'runAsGroup' },
    runAsNonRoot: { n: 5, type: 'bool', json: 'runAsNonRoot' },
    readOnlyRootFilesystem: { n: 6, type: 'bool', json: 'readOnlyRootFilesystem' },
    allowPrivilegeEscalation: { n: 7, type: 'bool', json: 'allowPrivilegeEscalation' },
    procMount: { n: 9, type: 'string', json: 'procMount' },
    seccompProfile: { n: 11, type: 'SeccompProfile', json: 'seccompProfile' },
    appArmorProfile: { n: 12, type: 'AppArmorProfile', json: 'appArmorProfile' },
    ulimits: { n: 13, type: 'Ulimit', repeated: true, json: 'ulimits' },
  },
  EmptyDirVolumeSource: {
    medium: { n: 1, type: 'string', json: 'medium' },
    sizeLimit: { n: 2, type: 'Quantity', json: 'sizeLimit' },
  },
  ConfigMapVolumeSource: {
    localObjectReference: { n: 1, type: 'LocalObjectReference', json: '' },
    items: { n: 2, type: 'KeyToPath', repeated: true, json: 'items' },
    defaultMode: { n: 3, type: 'int32', json: 'defaultMode' },
    optional: { n: 4, type: 'bool', json: 'optional' },
  },
  SecretVolumeSource: {
    secretName: { n: 1, type: 'string', json: 'secretName' },
    items: { n: 2, type: 'KeyToPath', repeated: true, json: 'items' },
    defaultMode: { n: 3, type: 'int32', json: 'defaultMode' },
    optional: { n: 4, type: 'bool', json: 'optional' },
  },
  PodDNSConfig: {
    nameservers: { n: 1, type: 'string', repeated: true, json: 'nameservers' },
    searches: { n: 2, type: 'string', repeated: true, json: 'searches' },
    options: { n: 3, type: 'PodDNSConfigOption', repeated: true, json: 'options' },
  },
  PodDNSConfigOption: {
    name: { n: 1, type: 'string', json: 'name' },
    value: { n: 2, type: 'string', json: 'value' },
  },
  PodReadinessGate: {
    conditionType: { n: 1, type: 'string', json: 'conditionType' },
  },
  Service: {
    metadata: { n: 1, type: 'ObjectMeta', json: 'metadata' },
    spec: { n: 2, type: 'ServiceSpec', json: 'spec' },
    status: { n: 3, type: 'ServiceStatus', json: 'status' },
  },
  ServiceList: {
    metadata: { n: 1, type: 'ListMeta', json: 'metadata' },
    items: { n: 2, type: 'Service', repeated: true, json: 'items' },
  },
  ServiceSpec: {
    ports: { n: 1, type: 'ServicePort', repeated: true, json: 'ports' },
    selector: { n: 2, type: 'string', map: true, json: 'selector' },
    clusterIP: { n: 3, type: 'string', json: 'clusterIP' },
    clusterIPs: { n: 18, type: 'string', repeated: true, json: 'clusterIPs' },
    type: { n: 4, type: 'string', json: 'type' },
    externalIPs: { n: 5, type: 'string', repeated: true, json: 'externalIPs' },
    sessionAffinity: { n: 7, type: 'string', json: 'sessionAffinity' },
    loadBalancerIP: { n: 8, type: 'string', json: 'loadBalancerIP' },
    loadBalancerSourceRanges: { n: 9, type: 'string', repeated: true, json: 'loadBalancerSourceRanges' },
    externalName: { n: 10, type: 'string', json: 'externalName' },
    externalTrafficPolicy: { n: 11, type: 'string', json: 'externalTrafficPolicy' },
    healthCheckNodePort: { n: 12, type: 'int32', json: 'healthCheckNodePort' },
    publishNotReadyAddresses: { n: 13, type: 'bool', json: 'publishNotReadyAddresses' },
    sessionAffinityConfig: { n: 14, type: 'SessionAffinityConfig', json: 'sessionAffinityConfig' },
    ipFamilies: { n: 19, type: 'string', repeated: true, json: 'ipFamilies' },
    ipFamilyPolicy: { n: 17, type: 'string', json: 'ipFamilyPolicy' },
    allocateLoadBalancerNodePorts: { n: 20, type: 'bool', json: 'allocateLoadBalancerNodePorts' },
    loadBalancerClass: { n: 21, type: 'string', json: 'loadBalancerClass' },
    internalTrafficPolicy: { n: 22, type: 'string', json: 'internalTrafficPolicy' },
    trafficDistribution: { n: 23, type: 'string', json: 'trafficDistribution' },
  },
  ServicePort: {
    name: { n: 1, type: 'string', json: 'name' },
    protocol: { n: 2, type: 'string', json: 'protocol' },
    appProtocol: { n: 6, type: 'string', json: 'appProtocol' },
    port: { n: 3, type: 'int32', json: 'port' },
    targetPort: { n: 4, type: 'IntOrString', json: 'targetPort' },
    nodePort: { n: 5, type: 'int32', json: 'nodePort' },
  },
  ServiceStatus: {
    loadBalancer: { n: 1, type: 'LoadBalancerStatus', json: 'loadBalancer' },
    /** meta/v1 Condition: not in MESSAGES. */
    conditions: { n: 2, type: 'Condition', repeated: true, json: 'conditions' },
  },
  LoadBalancerStatus: {
    ingress: { n: 1, type: 'LoadBalancerIngress', repeated: true, json: 'ingress' },
  },
  LoadBalancerIngress: {
    ip: { n: 1, type: 'string', json: 'ip' },
    hostname: { n: 2, type: 'string', json: 'hostname' },
    ipMode: { n: 3, type: 'string', json: 'ipMode' },
    ports: { n: 4, type: 'PortStatus', repeated: true, json: 'ports' },
  },
  PortStatus: {
    port: { n: 1, type: 'int32', json: 'port' },
    protocol: { n: 2, type: 'string', json: 'protocol' },
    error: { n: 3, type: 'string', json: 'error' },
  },
  SessionAffinityConfig: {
    clientIP: { n: 1, type: 'ClientIPConfig', json: 'clientIP' },
  },
  ClientIPConfig: {
    timeoutSeconds: { n: 1, type: 'int32', json: 'timeoutSeconds' },
  },
  Namespace: {
    metadata: { n: 1, type: 'ObjectMeta', json: 'metadata' },
    spec: { n: 2, type: 'NamespaceSpec', json: 'spec' },
    status: { n: 3, type: 'NamespaceStatus', json: 'status' },
  },
  NamespaceList: {
    metadata: { n: 1, type: 'ListMeta', json: 'metadata' },
    items: { n: 2, type: 'Namespace', repeated: true, json: 'items' },
  },
  NamespaceSpec: {
    finalizers: { n: 1, type: 'string', repeated: true, json: 'finalizers' },
  },
  NamespaceStatus: {
    phase: { n: 1, type: 'string', json: 'phase' },
    conditions: { n: 2, type: 'NamespaceCondition', repeated: true, json: 'conditions' },
  },
  NamespaceCondition: {
    type: { n: 1, type: 'string', json: 'type' },
    status: { n: 2, type: 'string', json: 'status' },
    lastTransitionTime: { n: 4, type: 'Time', json: 'lastTransitionTime' },
    reason: { n: 5, type: 'string', json: 'reason' },
    message: { n: 6, type: 'string', json: 'message' },
  },
  ObjectReference: {
    kind: { n: 1, type: 'string', json: 'kind' },
    namespace: { n: 2, type: 'string', json: 'namespace' },
    name: { n: 3, type: 'string', json: 'name' },
    uid: { n: 4, type: 'string', json: 'uid' },
    apiVersion: { n: 5, type: 'string', json: 'apiVersion' },
    resourceVersion: { n: 6, type: 'string', json: 'resourceVersion' },
    fieldPath: { n: 7, type: 'string', json: 'fieldPath' },
  },

  // ---------------------------------------------------------------- discovery/v1 (k8s.io.api.discovery.v1)
  EndpointSlice: {
    metadata: { n: 1, type: 'ObjectMeta', json: 'metadata' },
    addressType: { n: 4, type: 'string', json: 'addressType' },
    endpoints: { n: 2, type: 'Endpoint', repeated: true, json: 'endpoints' },
    ports: { n: 3, type: 'EndpointPort', repeated: true, json: 'ports' },
  },
  EndpointSliceList: {
    metadata: { n: 1, type: 'ListMeta', json: 'metadata' },
    items: { n: 2, type: 'EndpointSlice', repeated: true, json: 'items' },
  },
  Endpoint: {
    addresses: { n: 1, type: 'string', repeated: true, json: 'addresses' },
    conditions: { n: 2, type: 'EndpointConditions', json: 'conditions' },
    hostname: { n: 3, type: 'string', json: 'hostname' },
    targetRef: { n: 4, type: 'ObjectReference', json: 'targetRef' },
    deprecatedTopology: { n: 5, type: 'string', map: true, json: 'deprecatedTopology' },
    nodeName: { n: 6, type: 'string', json: 'nodeName' },
    zone: { n: 7, type: 'string', json: 'zone' },
    hints: { n: 8, type: 'EndpointHints', json: 'hints' },
  },
  EndpointConditions: {
    ready: { n: 1, type: 'bool', json: 'ready' },
    serving: { n: 2, type: 'bool', json: 'serving' },
    terminating: { n: 3, type: 'bool', json: 'terminating' },
  },
  EndpointHints: {
    forZones: { n: 1, type: 'ForZone', repeated: true, json: 'forZones' },
    forNodes: { n: 2, type: 'ForNode', repeated: true, json: 'forNodes' },
  },
  ForZone: {
    name: { n: 1, type: 'string', json: 'name' },
  },
  ForNode: {
    name: { n: 1, type: 'string', json: 'name' },
  },
  /** discovery/v1 EndpointPort (core/v1 EndpointPort numbers differ and it is not here). */
  EndpointPort: {
    name: { n: 1, type: 'string', json: 'name' },
    protocol: { n: 2, type: 'string', json: 'protocol' },
    port: { n: 3, type: 'int32', json: 'port' },
    appProtocol: { n: 4, type: 'string', json: 'appProtocol' },
  },
};
