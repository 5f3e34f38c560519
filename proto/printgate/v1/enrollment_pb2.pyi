import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeviceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEVICE_KIND_UNSPECIFIED: _ClassVar[DeviceKind]
    DEVICE_KIND_TERMINAL: _ClassVar[DeviceKind]
    DEVICE_KIND_KIOSK: _ClassVar[DeviceKind]
DEVICE_KIND_UNSPECIFIED: DeviceKind
DEVICE_KIND_TERMINAL: DeviceKind
DEVICE_KIND_KIOSK: DeviceKind

class GetCaCertificateRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCaCertificateResponse(_message.Message):
    __slots__ = ("trust_bundle_pem",)
    TRUST_BUNDLE_PEM_FIELD_NUMBER: _ClassVar[int]
    trust_bundle_pem: str
    def __init__(self, trust_bundle_pem: _Optional[str] = ...) -> None: ...

class EnrollRequest(_message.Message):
    __slots__ = ("token", "kind", "csr_pem")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    token: str
    kind: DeviceKind
    csr_pem: str
    def __init__(self, token: _Optional[str] = ..., kind: _Optional[_Union[DeviceKind, str]] = ..., csr_pem: _Optional[str] = ...) -> None: ...

class RenewRequest(_message.Message):
    __slots__ = ("csr_pem",)
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    csr_pem: str
    def __init__(self, csr_pem: _Optional[str] = ...) -> None: ...

class EnrollResponse(_message.Message):
    __slots__ = ("device_id", "kind", "certificate_pem", "chain_pem", "not_after", "device_endpoints")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    CHAIN_PEM_FIELD_NUMBER: _ClassVar[int]
    NOT_AFTER_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    kind: DeviceKind
    certificate_pem: str
    chain_pem: str
    not_after: _timestamp_pb2.Timestamp
    device_endpoints: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, device_id: _Optional[str] = ..., kind: _Optional[_Union[DeviceKind, str]] = ..., certificate_pem: _Optional[str] = ..., chain_pem: _Optional[str] = ..., not_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., device_endpoints: _Optional[_Iterable[str]] = ...) -> None: ...
