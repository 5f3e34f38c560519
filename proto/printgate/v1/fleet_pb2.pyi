import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConfigScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONFIG_SCOPE_UNSPECIFIED: _ClassVar[ConfigScope]
    CONFIG_SCOPE_DEVICE: _ClassVar[ConfigScope]
    CONFIG_SCOPE_GROUP: _ClassVar[ConfigScope]
CONFIG_SCOPE_UNSPECIFIED: ConfigScope
CONFIG_SCOPE_DEVICE: ConfigScope
CONFIG_SCOPE_GROUP: ConfigScope

class FleetDevice(_message.Message):
    __slots__ = ("id", "kind", "group", "online", "last_seen", "software_version", "config_version", "source", "open_alerts")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    OPEN_ALERTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    group: str
    online: bool
    last_seen: _timestamp_pb2.Timestamp
    software_version: str
    config_version: str
    source: str
    open_alerts: int
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., group: _Optional[str] = ..., online: _Optional[bool] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., software_version: _Optional[str] = ..., config_version: _Optional[str] = ..., source: _Optional[str] = ..., open_alerts: _Optional[int] = ...) -> None: ...

class ListDevicesRequest(_message.Message):
    __slots__ = ("kind", "group", "offline_only")
    KIND_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_ONLY_FIELD_NUMBER: _ClassVar[int]
    kind: str
    group: str
    offline_only: bool
    def __init__(self, kind: _Optional[str] = ..., group: _Optional[str] = ..., offline_only: _Optional[bool] = ...) -> None: ...

class ListDevicesResponse(_message.Message):
    __slots__ = ("devices",)
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    devices: _containers.RepeatedCompositeFieldContainer[FleetDevice]
    def __init__(self, devices: _Optional[_Iterable[_Union[FleetDevice, _Mapping]]] = ...) -> None: ...

class DeviceRef(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeviceDetail(_message.Message):
    __slots__ = ("device", "state_json", "alerts", "recent_commands")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    STATE_JSON_FIELD_NUMBER: _ClassVar[int]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    RECENT_COMMANDS_FIELD_NUMBER: _ClassVar[int]
    device: FleetDevice
    state_json: str
    alerts: _containers.RepeatedCompositeFieldContainer[FleetAlert]
    recent_commands: _containers.RepeatedCompositeFieldContainer[FleetCommand]
    def __init__(self, device: _Optional[_Union[FleetDevice, _Mapping]] = ..., state_json: _Optional[str] = ..., alerts: _Optional[_Iterable[_Union[FleetAlert, _Mapping]]] = ..., recent_commands: _Optional[_Iterable[_Union[FleetCommand, _Mapping]]] = ...) -> None: ...

class DeviceHistoryRequest(_message.Message):
    __slots__ = ("id", "limit")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    id: str
    limit: int
    def __init__(self, id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class HistoryEntry(_message.Message):
    __slots__ = ("at", "kind", "summary_json")
    AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_JSON_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    kind: str
    summary_json: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ..., summary_json: _Optional[str] = ...) -> None: ...

class DeviceHistoryResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[HistoryEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[HistoryEntry, _Mapping]]] = ...) -> None: ...

class SendCommandRequest(_message.Message):
    __slots__ = ("device_id", "verb", "args_json", "timeout_s")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    VERB_FIELD_NUMBER: _ClassVar[int]
    ARGS_JSON_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    verb: str
    args_json: str
    timeout_s: int
    def __init__(self, device_id: _Optional[str] = ..., verb: _Optional[str] = ..., args_json: _Optional[str] = ..., timeout_s: _Optional[int] = ...) -> None: ...

class SendFleetCommandRequest(_message.Message):
    __slots__ = ("verb", "args_json", "timeout_s", "kind", "group")
    VERB_FIELD_NUMBER: _ClassVar[int]
    ARGS_JSON_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    verb: str
    args_json: str
    timeout_s: int
    kind: str
    group: str
    def __init__(self, verb: _Optional[str] = ..., args_json: _Optional[str] = ..., timeout_s: _Optional[int] = ..., kind: _Optional[str] = ..., group: _Optional[str] = ...) -> None: ...

class FleetCommandList(_message.Message):
    __slots__ = ("commands",)
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    commands: _containers.RepeatedCompositeFieldContainer[FleetCommand]
    def __init__(self, commands: _Optional[_Iterable[_Union[FleetCommand, _Mapping]]] = ...) -> None: ...

class CommandRef(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class FleetCommand(_message.Message):
    __slots__ = ("id", "device_id", "verb", "args_json", "issued_by", "issued_at", "deadline", "status", "detail", "result_json", "finished_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    VERB_FIELD_NUMBER: _ClassVar[int]
    ARGS_JSON_FIELD_NUMBER: _ClassVar[int]
    ISSUED_BY_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    device_id: str
    verb: str
    args_json: str
    issued_by: str
    issued_at: _timestamp_pb2.Timestamp
    deadline: _timestamp_pb2.Timestamp
    status: str
    detail: str
    result_json: str
    finished_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., device_id: _Optional[str] = ..., verb: _Optional[str] = ..., args_json: _Optional[str] = ..., issued_by: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[str] = ..., detail: _Optional[str] = ..., result_json: _Optional[str] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FleetAlert(_message.Message):
    __slots__ = ("id", "device_id", "kind", "subject", "detail", "raised_at", "cleared_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    RAISED_AT_FIELD_NUMBER: _ClassVar[int]
    CLEARED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    device_id: str
    kind: str
    subject: str
    detail: str
    raised_at: _timestamp_pb2.Timestamp
    cleared_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., device_id: _Optional[str] = ..., kind: _Optional[str] = ..., subject: _Optional[str] = ..., detail: _Optional[str] = ..., raised_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cleared_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("include_cleared", "device_id")
    INCLUDE_CLEARED_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    include_cleared: bool
    device_id: str
    def __init__(self, include_cleared: _Optional[bool] = ..., device_id: _Optional[str] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[FleetAlert]
    def __init__(self, alerts: _Optional[_Iterable[_Union[FleetAlert, _Mapping]]] = ...) -> None: ...

class PutConfigRequest(_message.Message):
    __slots__ = ("scope", "name", "document_json")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_JSON_FIELD_NUMBER: _ClassVar[int]
    scope: ConfigScope
    name: str
    document_json: str
    def __init__(self, scope: _Optional[_Union[ConfigScope, str]] = ..., name: _Optional[str] = ..., document_json: _Optional[str] = ...) -> None: ...

class GetConfigRequest(_message.Message):
    __slots__ = ("scope", "name", "version")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    scope: ConfigScope
    name: str
    version: int
    def __init__(self, scope: _Optional[_Union[ConfigScope, str]] = ..., name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ConfigVersion(_message.Message):
    __slots__ = ("scope", "name", "version", "document_json", "created_by", "created_at")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_JSON_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    scope: ConfigScope
    name: str
    version: int
    document_json: str
    created_by: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, scope: _Optional[_Union[ConfigScope, str]] = ..., name: _Optional[str] = ..., version: _Optional[int] = ..., document_json: _Optional[str] = ..., created_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SetDeviceGroupRequest(_message.Message):
    __slots__ = ("device_id", "group")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    group: str
    def __init__(self, device_id: _Optional[str] = ..., group: _Optional[str] = ...) -> None: ...

class RolloutWave(_message.Message):
    __slots__ = ("percent", "group")
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    percent: int
    group: str
    def __init__(self, percent: _Optional[int] = ..., group: _Optional[str] = ...) -> None: ...

class StartRolloutRequest(_message.Message):
    __slots__ = ("bundle_url", "bundle_version", "bundle_sha256", "waves", "max_failure_percent", "kind")
    BUNDLE_URL_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_VERSION_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_SHA256_FIELD_NUMBER: _ClassVar[int]
    WAVES_FIELD_NUMBER: _ClassVar[int]
    MAX_FAILURE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    bundle_url: str
    bundle_version: str
    bundle_sha256: str
    waves: _containers.RepeatedCompositeFieldContainer[RolloutWave]
    max_failure_percent: int
    kind: str
    def __init__(self, bundle_url: _Optional[str] = ..., bundle_version: _Optional[str] = ..., bundle_sha256: _Optional[str] = ..., waves: _Optional[_Iterable[_Union[RolloutWave, _Mapping]]] = ..., max_failure_percent: _Optional[int] = ..., kind: _Optional[str] = ...) -> None: ...

class RolloutRef(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RolloutTarget(_message.Message):
    __slots__ = ("device_id", "wave", "status", "detail", "command_id")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    WAVE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    wave: int
    status: str
    detail: str
    command_id: str
    def __init__(self, device_id: _Optional[str] = ..., wave: _Optional[int] = ..., status: _Optional[str] = ..., detail: _Optional[str] = ..., command_id: _Optional[str] = ...) -> None: ...

class Rollout(_message.Message):
    __slots__ = ("id", "bundle_version", "state", "current_wave", "waves", "max_failure_percent", "targets", "created_by", "pause_reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_WAVE_FIELD_NUMBER: _ClassVar[int]
    WAVES_FIELD_NUMBER: _ClassVar[int]
    MAX_FAILURE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    PAUSE_REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    bundle_version: str
    state: str
    current_wave: int
    waves: _containers.RepeatedCompositeFieldContainer[RolloutWave]
    max_failure_percent: int
    targets: _containers.RepeatedCompositeFieldContainer[RolloutTarget]
    created_by: str
    pause_reason: str
    def __init__(self, id: _Optional[str] = ..., bundle_version: _Optional[str] = ..., state: _Optional[str] = ..., current_wave: _Optional[int] = ..., waves: _Optional[_Iterable[_Union[RolloutWave, _Mapping]]] = ..., max_failure_percent: _Optional[int] = ..., targets: _Optional[_Iterable[_Union[RolloutTarget, _Mapping]]] = ..., created_by: _Optional[str] = ..., pause_reason: _Optional[str] = ...) -> None: ...

class FetchConfigRequest(_message.Message):
    __slots__ = ("known_version",)
    KNOWN_VERSION_FIELD_NUMBER: _ClassVar[int]
    known_version: str
    def __init__(self, known_version: _Optional[str] = ...) -> None: ...

class DeviceConfig(_message.Message):
    __slots__ = ("version", "document_json", "group_version", "device_version")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_JSON_FIELD_NUMBER: _ClassVar[int]
    GROUP_VERSION_FIELD_NUMBER: _ClassVar[int]
    DEVICE_VERSION_FIELD_NUMBER: _ClassVar[int]
    version: str
    document_json: str
    group_version: int
    device_version: int
    def __init__(self, version: _Optional[str] = ..., document_json: _Optional[str] = ..., group_version: _Optional[int] = ..., device_version: _Optional[int] = ...) -> None: ...

class UploadDiagnosticsRequest(_message.Message):
    __slots__ = ("command_id", "bundle")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    bundle: bytes
    def __init__(self, command_id: _Optional[str] = ..., bundle: _Optional[bytes] = ...) -> None: ...

class UploadDiagnosticsResponse(_message.Message):
    __slots__ = ("size_bytes",)
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    size_bytes: int
    def __init__(self, size_bytes: _Optional[int] = ...) -> None: ...
