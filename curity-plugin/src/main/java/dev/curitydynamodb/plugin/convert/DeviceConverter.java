package dev.curitydynamodb.plugin.convert;

import dev.curitydynamodb.grpc.v1.Device;
import dev.curitydynamodb.plugin.json.JsonText;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import se.curity.identityserver.sdk.attribute.Attribute;
import se.curity.identityserver.sdk.attribute.AttributeValue;
import se.curity.identityserver.sdk.attribute.Attributes;
import se.curity.identityserver.sdk.attribute.scim.v2.Meta;
import se.curity.identityserver.sdk.attribute.scim.v2.ResourceAttributes;
import se.curity.identityserver.sdk.attribute.scim.v2.extensions.DeviceAttributes;
import se.curity.identityserver.sdk.data.query.ResourceQuery.AttributesEnumeration;

/**
 * {@link DeviceAttributes} and the service's {@code Device}: the device's fields as fields, every
 * other attribute (its {@code attributes} map included) as JSON object text.
 */
public final class DeviceConverter {
    /** The device's own fields, and what is derived (meta, schemas): never in the JSON text. */
    private static final Set<String> FIELDS = Set.of(
            ResourceAttributes.ID,
            ResourceAttributes.META,
            ResourceAttributes.SCHEMAS,
            ResourceAttributes.EXTERNAL_ID,
            DeviceAttributes.DEVICE_ID,
            DeviceAttributes.ACCOUNT_ID,
            DeviceAttributes.ALIAS,
            DeviceAttributes.FORM_FACTOR,
            DeviceAttributes.DEVICE_TYPE,
            DeviceAttributes.OWNER,
            DeviceAttributes.EXPIRES_AT);

    private DeviceConverter() {}

    /** A device without an id gets a new one, as Curity's own plugin gives it. */
    public static Device toProto(DeviceAttributes device) {
        Device.Builder b = Device.newBuilder()
                .setId(
                        device.contains(ResourceAttributes.ID)
                                ? device.getId()
                                : UUID.randomUUID().toString())
                .setDeviceId(orEmpty(device.getDeviceId()))
                .setAccountId(orEmpty(device.getAccountId()));
        if (device.getExternalId() != null) {
            b.setExternalId(device.getExternalId());
        }
        if (device.getAlias() != null) {
            b.setAlias(device.getAlias());
        }
        if (device.getFormFactor() != null) {
            b.setFormFactor(device.getFormFactor());
        }
        if (device.getDeviceType() != null) {
            b.setDeviceType(device.getDeviceType());
        }
        if (device.getOwner() != null) {
            b.setOwner(device.getOwner());
        }
        if (device.getExpiresAt() != null) {
            b.setExpiresAt(device.getExpiresAt().getEpochSecond());
        }
        Map<String, Object> rest = new LinkedHashMap<>(device.asMap());
        rest.keySet().removeAll(FIELDS);
        b.setAttributesJson(rest.isEmpty() ? "" : JsonText.write(rest));
        return b.build();
    }

    public static DeviceAttributes toSdk(Device device) {
        List<Attribute> attributes = new ArrayList<>();
        attributes.add(Attribute.of(ResourceAttributes.ID, device.getId()));
        attributes.add(Attribute.of(
                ResourceAttributes.META,
                Meta.of(DeviceAttributes.RESOURCE_TYPE)
                        .withCreated(Instant.ofEpochSecond(device.getCreated()))
                        .withLastModified(Instant.ofEpochSecond(device.getUpdated()))));
        attributes.add(Attribute.of(DeviceAttributes.DEVICE_ID, device.getDeviceId()));
        attributes.add(Attribute.of(DeviceAttributes.ACCOUNT_ID, device.getAccountId()));
        if (device.hasExternalId()) {
            attributes.add(Attribute.of(ResourceAttributes.EXTERNAL_ID, device.getExternalId()));
        }
        if (device.hasAlias()) {
            attributes.add(Attribute.of(DeviceAttributes.ALIAS, device.getAlias()));
        }
        if (device.hasFormFactor()) {
            attributes.add(Attribute.of(DeviceAttributes.FORM_FACTOR, device.getFormFactor()));
        }
        if (device.hasDeviceType()) {
            attributes.add(Attribute.of(DeviceAttributes.DEVICE_TYPE, device.getDeviceType()));
        }
        if (device.hasOwner()) {
            attributes.add(Attribute.of(DeviceAttributes.OWNER, device.getOwner()));
        }
        if (device.hasExpiresAt()) {
            attributes.add(Attribute.of(
                    DeviceAttributes.EXPIRES_AT,
                    AttributeValue.formatAsStringAttributeValue(Instant.ofEpochSecond(device.getExpiresAt()))));
        }
        Attributes.fromMap(JsonText.read(device.getAttributesJson())).forEach(attributes::add);
        return DeviceAttributes.of(attributes);
    }

    public static ResourceAttributes<?> toSdk(Device device, AttributesEnumeration attributes) {
        DeviceAttributes full = toSdk(device);
        return attributes == null || attributes.isNeutral() ? full : full.filter(attributes);
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
