// The on-screen keyboard (Qt Virtual Keyboard) hosted at the bottom of the terminal's window
// by ui/keyboard.py: Simplified Chinese (Pinyin) and English, the word candidates in a strip
// above the keys, inside this item so they are never drawn outside the window.
import QtQuick
import QtQuick.VirtualKeyboard
import QtQuick.VirtualKeyboard.Settings

Item {
    id: root
    property real keyboardWidth: width
    property string keyboardLocale: "zh_CN"
    // the keys plus the candidate strip: the host widget takes this height
    readonly property real wantedHeight: panel.keyboard.height + panel.keyboard.style.selectionListHeight
    onKeyboardLocaleChanged: VirtualKeyboardSettings.locale = keyboardLocale

    InputPanel {
        id: panel
        objectName: "inputPanel"
        width: Math.min(root.width, root.keyboardWidth)
        anchors.horizontalCenter: parent.horizontalCenter
        anchors.bottom: parent.bottom
    }

    Component.onCompleted: {
        VirtualKeyboardSettings.activeLocales = ["zh_CN", "en_US"]
        VirtualKeyboardSettings.locale = keyboardLocale
    }
}
